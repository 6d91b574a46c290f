/**
 * The stored form of a batch's event texts (src/storage/payload-codec.ts): every text reads back byte for byte, the
 * codec falls back to plain UTF-8 when DEFLATE does not help, corrupt rows fail loudly, and the preset dictionary is
 * frozen (stored payloads need exactly its bytes).
 */
import { describe, expect, it } from "vitest";
import { BatchPayload, concatTexts, encodePayload } from "../../src/storage/payload-codec";
import { PAYLOAD_DICTIONARY_V1 } from "../../src/storage/payload-dictionary";
import { fixtureText } from "../helpers/fixtures";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function roundTrip(texts: string[]) {
  const { utf8, spans } = concatTexts(texts);
  const stored = encodePayload(utf8);
  const payload = new BatchPayload(Array.from(stored)); // D1 returns BLOBs as arrays of numbers
  return { stored, read: spans.map((span) => payload.text(span)) };
}

describe("batch payload codec", () => {
  it("dictionary v1 is frozen: its SHA-256 never changes (a better one is a new codec)", async () => {
    expect(await sha256(PAYLOAD_DICTIONARY_V1)).toBe("d1f362c4f48ed05d1de9d552292760615aca286d0aed2cf93b2c714c9a086c62");
  });

  it("reads back Okta's example events byte for byte, compressed to well under half", () => {
    const delivery = JSON.parse(fixtureText("event-hook.delivery.user-session-start.json")) as { data: { events: unknown[] } };
    const texts = [JSON.stringify(delivery.data.events[0], null, 4), fixtureText("event-hook.logevent.user-lifecycle-deactivate.json").trim()];
    const { stored, read } = roundTrip(texts);
    expect(read).toEqual(texts);
    expect(stored[0]).toBe(0x01);
    expect(stored.byteLength).toBeLessThan(new TextEncoder().encode(texts.join("")).byteLength / 2);
  });

  it("keeps exact bytes: multi-byte UTF-8, escapes, 1e400, 23-digit integers, deep nesting", () => {
    const texts = [
      `{"uuid":"a","x":"é漢字🙂","esc":"\\u00e9\\/\\ud800","n":1e400,"big":12345678901234567890123}`,
      `{"uuid":"b","deep":${"[".repeat(2_000)}${"]".repeat(2_000)}}`,
      `{ "uuid" : "c" ,\n  "spacing" : [ 1 , 2 ] }`,
    ];
    expect(roundTrip(texts).read).toEqual(texts);
  });

  it("stores text DEFLATE cannot shrink as plain UTF-8 (first byte '{'), still read by span", () => {
    const texts = ["{}"];
    const { stored, read } = roundTrip(texts);
    expect(stored[0]).toBe(0x7b);
    expect(read).toEqual(texts);
  });

  it("refuses a corrupt row instead of guessing: unknown codec, empty, span outside the payload", () => {
    expect(() => new BatchPayload([0x02, 1, 2]).text({ offset: 0, bytes: 1 })).toThrow(/unknown payload codec 0x02/);
    expect(() => new BatchPayload([]).text({ offset: 0, bytes: 0 })).toThrow(/empty stored payload/);
    expect(() => new BatchPayload(Array.from(new TextEncoder().encode("{}"))).text({ offset: 1, bytes: 5 })).toThrow(/outside/);
  });
});
