/**
 * How the exact texts of a batch's events are kept in `event_payloads.data` (one BLOB per batch): the UTF-8 texts
 * one after another, each event row knowing its own byte offset and length, in one of two forms chosen by the
 * first byte:
 * - `{` (0x7B): the UTF-8 itself (as the ingest stores it, until the scheduled compaction compresses it; rows copied
 *   from before compression; batches DEFLATE would not make smaller — every event text is a JSON object, so it
 *   starts with `{`);
 * - 0x01: codec 1, raw DEFLATE (RFC 1951) of the UTF-8 with the preset dictionary PAYLOAD_DICTIONARY_V1.
 *
 * Plain payloads cross D1's binding as text, both ways: the ingest binds the texts as a TEXT parameter that SQL casts
 * to a BLOB, and reads cast a plain BLOB back to TEXT (plainAsText). D1's binding copies a BLOB parameter into an
 * array of numbers and sends it as JSON, several characters per byte, and returns BLOB columns the same way; for a
 * 50 KB delivery that copy was the largest CPU cost of the whole request. Compressed payloads are small and stay
 * BLOBs.
 *
 * Compressing a whole Okta delivery at once, instead of each event on its own, is what makes events small: the
 * events of one delivery share their members and much of their values (org, apps, user agents, policies), and a
 * 20-event delivery of 2-4 KB events keeps about 390 bytes per event instead of about 550 (docs/storage.md has
 * the measurements). The preset dictionary does the same for what all Okta events share, which helps most the
 * small deliveries. Workers' CompressionStream has no dictionary option, so this uses fflate (a small, maintained,
 * dependency-free DEFLATE implementation that supports one).
 */
import { deflateSync, inflateSync } from "fflate";
import { PAYLOAD_DICTIONARY_V1 } from "./payload-dictionary";

const CODEC_DEFLATE_DICT_V1 = 0x01;
const JSON_OBJECT_START = 0x7b;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const dictionaryV1 = encoder.encode(PAYLOAD_DICTIONARY_V1);

/** Where one event's text is in its batch's payload, in bytes of the UTF-8. */
export interface PayloadSpan {
  offset: number;
  bytes: number;
}

/** The UTF-8 of `texts`, one after another, and where each one is. */
export function concatTexts(texts: readonly string[]): { utf8: Uint8Array; spans: PayloadSpan[] } {
  const parts = texts.map((text) => encoder.encode(text));
  const utf8 = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  const spans: PayloadSpan[] = [];
  let offset = 0;
  for (const part of parts) {
    utf8.set(part, offset);
    spans.push({ offset, bytes: part.byteLength });
    offset += part.byteLength;
  }
  return { utf8, spans };
}

/** The stored form of a batch's texts (the UTF-8 of concatTexts). */
export function encodePayload(utf8: Uint8Array): Uint8Array {
  const packed = deflateSync(utf8, { level: 6, dictionary: dictionaryV1 });
  if (packed.byteLength + 1 >= utf8.byteLength) return utf8;
  const out = new Uint8Array(packed.byteLength + 1);
  out[0] = CODEC_DEFLATE_DICT_V1;
  out.set(packed, 1);
  return out;
}

/** `event_payloads.data` as D1 returns it: a plain payload read through plainAsText as a string, a BLOB as an array of numbers (or bytes). */
export type StoredPayload = string | ArrayBuffer | Uint8Array | number[];

/**
 * The SQL of a payload column as a read should select it: a plain payload as TEXT (a string, exactly its UTF-8,
 * which SQLite reinterprets without conversion), a compressed one as the BLOB it is.
 */
export function plainAsText(column: string): string {
  return `CASE WHEN substr(${column}, 1, 1) = x'7b' THEN CAST(${column} AS TEXT) ELSE ${column} END`;
}

/** Whether a stored payload is plain (not compressed yet, or not worth compressing). */
export function isPlain(stored: StoredPayload): boolean {
  if (typeof stored === "string") return true;
  const bytes = stored instanceof Uint8Array ? stored : new Uint8Array(stored);
  return bytes[0] === JSON_OBJECT_START;
}

/** A stored payload as the bytes its spans count in (TEXT is encoded to its UTF-8). */
export function storedBytes(stored: StoredPayload): Uint8Array {
  if (typeof stored === "string") return encoder.encode(stored);
  return stored instanceof Uint8Array ? stored : new Uint8Array(stored);
}

/** A batch's payload as read from D1, decoded once however many of its events are read. */
export class BatchPayload {
  private utf8: Uint8Array | undefined;

  constructor(private readonly stored: StoredPayload) {}

  /** The exact text of the event at `span`. Throws on a form it does not know or a span outside it (a corrupt row). */
  text(span: PayloadSpan): string {
    const utf8 = (this.utf8 ??= decodeStored(this.stored));
    if (span.offset < 0 || span.bytes < 0 || span.offset + span.bytes > utf8.byteLength) {
      throw new Error(`payload span ${span.offset}+${span.bytes} is outside the batch's ${utf8.byteLength} bytes`);
    }
    return decoder.decode(utf8.subarray(span.offset, span.offset + span.bytes));
  }
}

function decodeStored(stored: StoredPayload): Uint8Array {
  if (typeof stored === "string" && !stored.startsWith("{")) throw new Error("a payload read as text that is not plain event text");
  const bytes = storedBytes(stored);
  if (bytes.byteLength === 0) throw new Error("empty stored payload");
  if (bytes[0] === JSON_OBJECT_START) return bytes;
  if (bytes[0] === CODEC_DEFLATE_DICT_V1) return inflateSync(bytes.subarray(1), { dictionary: dictionaryV1 });
  throw new Error(`unknown payload codec 0x${bytes[0]!.toString(16).padStart(2, "0")}`);
}
