/**
 * How an event's exact text is kept in `events.payload` (a BLOB), chosen by its first byte:
 * - `{` (0x7B): the UTF-8 JSON itself (rows copied from before compression, and any event that deflate would not
 *   make smaller);
 * - 0x01: codec 1, raw DEFLATE (RFC 1951) of the UTF-8 JSON with the preset dictionary PAYLOAD_DICTIONARY_V1.
 *
 * A preset dictionary is what makes a single small event compress: Okta events repeat the same members and values
 * (`"authenticationContext":{"authenticationProvider":null,…`), and a 2 KB event shrinks to about a quarter instead
 * of a half. Workers' CompressionStream has no dictionary option, so this uses fflate (a small, maintained,
 * dependency-free DEFLATE implementation that supports one).
 */
import { deflateSync, inflateSync } from "fflate";
import { PAYLOAD_DICTIONARY_V1 } from "./payload-dictionary";

const CODEC_DEFLATE_DICT_V1 = 0x01;
const JSON_OBJECT_START = 0x7b;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const dictionaryV1 = encoder.encode(PAYLOAD_DICTIONARY_V1);

/** The stored form of one event's text. */
export function encodePayload(text: string): Uint8Array {
  const raw = encoder.encode(text);
  const packed = deflateSync(raw, { level: 6, dictionary: dictionaryV1 });
  if (packed.byteLength + 1 >= raw.byteLength) return raw;
  const out = new Uint8Array(packed.byteLength + 1);
  out[0] = CODEC_DEFLATE_DICT_V1;
  out.set(packed, 1);
  return out;
}

/** An event's text from its stored form. Throws on a form it does not know (a corrupt row), never guesses. */
export function decodePayload(stored: ArrayBuffer | Uint8Array | number[] | string): string {
  // D1 returns BLOBs as arrays of numbers; legacy rows read through a TEXT path arrive as strings.
  if (typeof stored === "string") return stored;
  const bytes = stored instanceof Uint8Array ? stored : new Uint8Array(stored);
  if (bytes.byteLength === 0) throw new Error("empty stored payload");
  if (bytes[0] === JSON_OBJECT_START) return decoder.decode(bytes);
  if (bytes[0] === CODEC_DEFLATE_DICT_V1) return decoder.decode(inflateSync(bytes.subarray(1), { dictionary: dictionaryV1 }));
  throw new Error(`unknown payload codec 0x${bytes[0]!.toString(16).padStart(2, "0")}`);
}

/** Lower-case hex of `bytes`: how a BLOB rides inside the JSON parameter of a many-row insert (`unhex(…)`). */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
