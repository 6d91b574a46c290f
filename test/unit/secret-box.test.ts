/**
 * The secret box (src/crypto/secret-box.ts): AES-256-GCM sealing of secrets at rest, its sealed format, tagged
 * failures that carry no secret, key rotation through a keyring, and SECRETS_ENCRYPTION_KEY parsing.
 */
import { describe, expect, it } from "vitest";
import { parseConfig, parseSecretKeys } from "../../src/config";
import { fromBase64Any, toBase64Url } from "../../src/crypto/base64";
import { keyIdOf, loadKeyring, open, seal, SEALED_PREFIX, type Keyring } from "../../src/crypto/secret-box";
import type { Env } from "../../src/env";

const KEY_A = "b2t0YS1ob29rcy1lZGdlLXRlc3Qta2V5LTMyYnl0ZXM="; // "okta-hooks-edge-test-key-32bytes"
const KEY_B = "b2t0YS1ob29rcy1lZGdlLW9sZC1rZXktMzJieXRlcyE="; // "okta-hooks-edge-old-key-32bytes!"
const PURPOSE = "destinations.signing_secret:dst_00000000000000000000";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async function keyring(raw: string): Promise<Keyring> {
  const problems: string[] = [];
  const ring = await loadKeyring(parseSecretKeys(raw, problems));
  expect(problems).toEqual([]);
  return ring!;
}

/** Replace the base64url part `index` (0 key id, 1 iv, 2 ciphertext) of a sealed value. */
function withPart(sealed: string, index: number, change: (part: string) => string): string {
  const parts = sealed.slice(SEALED_PREFIX.length).split(":");
  parts[index] = change(parts[index]!);
  return SEALED_PREFIX + parts.join(":");
}

describe("seal and open", () => {
  it("round-trips, in the format enc:v1:<keyId>:<iv>:<ciphertext> with no trace of the plaintext", async () => {
    const ring = await keyring(KEY_A);
    const sealed = await seal(ring, SECRET, PURPOSE);
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(SECRET);
    expect(sealed).not.toContain("whsec_");
    expect(sealed.split(":")[2]).toBe(await keyIdOf(fromBase64Any(KEY_A)!));
    expect(await open(ring, sealed, PURPOSE)).toEqual({ ok: true, value: SECRET });
  });

  it("round-trips the empty string and non-ASCII text", async () => {
    const ring = await keyring(KEY_A);
    for (const value of ["", "pässwörd ✓ 秘密"]) {
      expect(await open(ring, await seal(ring, value, PURPOSE), PURPOSE)).toEqual({ ok: true, value });
    }
  });

  it("uses a fresh IV for every seal, so the same secret never seals to the same text", async () => {
    const ring = await keyring(KEY_A);
    const sealed = await Promise.all(Array.from({ length: 20 }, () => seal(ring, SECRET, PURPOSE)));
    expect(new Set(sealed).size).toBe(20);
    expect(new Set(sealed.map((s) => s.split(":")[3])).size).toBe(20);
  });

  it("the key id names the key without revealing it", async () => {
    const id = await keyIdOf(fromBase64Any(KEY_A)!);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(id).not.toBe(await keyIdOf(fromBase64Any(KEY_B)!));
    const keyHex = Array.from(fromBase64Any(KEY_A)!, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(keyHex).not.toContain(id);
  });
});

describe("tagged failures, never a secret in them", () => {
  it("a tampered ciphertext or IV is corrupt", async () => {
    const ring = await keyring(KEY_A);
    const sealed = await seal(ring, SECRET, PURPOSE);
    const flipFirst = (part: string) => {
      const bytes = fromBase64Any(part)!;
      bytes[0] = bytes[0]! ^ 1;
      return toBase64Url(bytes);
    };
    expect(await open(ring, withPart(sealed, 2, flipFirst), PURPOSE)).toEqual({ ok: false, reason: "corrupt" });
    expect(await open(ring, withPart(sealed, 1, flipFirst), PURPOSE)).toEqual({ ok: false, reason: "corrupt" });
  });

  it("other additional data (another column or row) is corrupt: a sealed value cannot be swapped", async () => {
    const ring = await keyring(KEY_A);
    const sealed = await seal(ring, SECRET, PURPOSE);
    for (const other of [
      "destinations.okta_auth_value:dst_00000000000000000000",
      "destinations.signing_secret:dst_11111111111111111111",
      "",
    ]) {
      expect(await open(ring, sealed, other)).toEqual({ ok: false, reason: "corrupt" });
    }
  });

  it("a key id no configured key has is unknown_key", async () => {
    const sealed = await seal(await keyring(KEY_B), SECRET, PURPOSE);
    expect(await open(await keyring(KEY_A), sealed, PURPOSE)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it.each([
    ["clear text (a value stored before sealing)", SECRET],
    ["empty", ""],
    ["another version", "enc:v2:00000000:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA"],
    ["missing part", "enc:v1:00000000:AAAAAAAAAAAAAAAA"],
    ["extra part", "enc:v1:00000000:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:x"],
    ["key id not hex", "enc:v1:zzzzzzzz:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA"],
    ["iv of 11 bytes", "enc:v1:00000000:AAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA"],
    ["iv not base64", "enc:v1:00000000:!!!!!!!!!!!!!!!!:AAAAAAAAAAAAAAAAAAAAAA"],
    ["ciphertext shorter than the tag", "enc:v1:00000000:AAAAAAAAAAAAAAAA:AAAA"],
  ])("malformed: %s", async (_name, text) => {
    expect(await open(await keyring(KEY_A), text, PURPOSE)).toEqual({ ok: false, reason: "malformed" });
  });

  it("no failure carries the plaintext or the key", async () => {
    const ring = await keyring(KEY_A);
    const sealed = await seal(ring, SECRET, PURPOSE);
    const results = [await open(ring, sealed, "other"), await open(await keyring(KEY_B), sealed, PURPOSE)];
    for (const result of results) {
      const text = JSON.stringify(result);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(KEY_A);
    }
  });
});

describe("key rotation: the first key seals, every key opens", () => {
  it("a value sealed with the old key opens once a new key is listed first; new values use the new key", async () => {
    const old = await keyring(KEY_B);
    const sealedWithOld = await seal(old, SECRET, PURPOSE);
    const rotated = await keyring(`${KEY_A},${KEY_B}`);
    expect(await open(rotated, sealedWithOld, PURPOSE)).toEqual({ ok: true, value: SECRET });
    const sealedWithNew = await seal(rotated, SECRET, PURPOSE);
    expect(sealedWithNew.split(":")[2]).toBe(await keyIdOf(fromBase64Any(KEY_A)!));
    expect(await open(await keyring(KEY_A), sealedWithNew, PURPOSE)).toEqual({ ok: true, value: SECRET });
    // Once the old key is removed, what it sealed no longer opens.
    expect(await open(await keyring(KEY_A), sealedWithOld, PURPOSE)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("imports a key list once and answers the same keyring for it", async () => {
    const keys = parseSecretKeys(KEY_A, []);
    expect(loadKeyring(keys)).toBe(loadKeyring(keys));
    expect(loadKeyring([])).toBeNull();
  });
});

describe("SECRETS_ENCRYPTION_KEY parsing", () => {
  const complete = { EVENT_HOOK_SECRETS: "e", INLINE_HOOK_SECRETS: "i", ADMIN_TOKEN: "a" } as Env;

  it("accepts base64 and base64url (padding optional), comma-separated, with no problem", () => {
    const url = KEY_B.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const { config, problems } = parseConfig({ ...complete, SECRETS_ENCRYPTION_KEY: ` ${KEY_A} , ${url} ` });
    expect(problems).toEqual([]);
    expect(config.secretKeys.map((k) => k.length)).toEqual([32, 32]);
    expect(new TextDecoder().decode(config.secretKeys[0])).toBe("okta-hooks-edge-test-key-32bytes");
    expect(new TextDecoder().decode(config.secretKeys[1])).toBe("okta-hooks-edge-old-key-32bytes!");
    // A base64url key with - and _ in it.
    expect(parseSecretKeys(toBase64Url(new Uint8Array(32).fill(0xfb)), [])).toHaveLength(1);
  });

  it("missing: no keys, and a problem saying what cannot work", () => {
    const { config, problems } = parseConfig(complete);
    expect(config.secretKeys).toEqual([]);
    expect(problems).toEqual(["SECRETS_ENCRYPTION_KEY is not set: destinations cannot be created and forwarding cannot sign"]);
  });

  it.each([
    ["too short (16 bytes)", btoa("0123456789abcdef")],
    ["too long (33 bytes)", btoa("okta-hooks-edge-e2e-key-32-bytes!")],
    ["not base64", "this is not a key at all!!"],
    ["a whsec_ secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
  ])("malformed (%s): the whole variable is ignored, the problem names it but not its value", (_name, bad) => {
    for (const raw of [bad, `${KEY_A},${bad}`]) {
      const { config, problems } = parseConfig({ ...complete, SECRETS_ENCRYPTION_KEY: raw });
      expect(config.secretKeys).toEqual([]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^SECRETS_ENCRYPTION_KEY entry \d of \d is not base64 of 32 bytes/);
      expect(problems[0]).not.toContain(bad);
      expect(problems[0]).not.toContain(KEY_A);
    }
  });
});
