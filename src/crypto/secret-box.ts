/**
 * Secrets at rest: AES-256-GCM (WebCrypto only) so a D1 row, a backup or a database export never holds a secret
 * the gateway needs in clear (a destination's signing secret, its okta auth value).
 *
 * Sealed format: `enc:v1:<keyId>:<iv base64url>:<ciphertext+tag base64url>`.
 * - keyId: first 8 hex digits of SHA-256 of the raw key (names the key, reveals nothing of it), so a keyring of
 *   several keys (SECRETS_ENCRYPTION_KEY, first one seals, all open) knows which key opens a value.
 * - iv: 96 random bits per value (never reused with one key: 2^32 seals per key stay far inside GCM's bound).
 * - additional data: the value's purpose, e.g. `destinations.signing_secret:dst_…`, so a sealed value copied into
 *   another column or row does not open.
 *
 * `open` returns a Result with a tagged reason and never throws; no reason carries key or secret material.
 */

import { fromBase64Any, toBase64Url } from "./base64";

export const SEALED_PREFIX = "enc:v1:";
/** Raw key length of AES-256. */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
/** GCM tag length (bytes) appended to the ciphertext by WebCrypto. */
const TAG_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export interface Keyring {
  /** The key that seals new values (the first configured key). */
  sealing: { id: string; key: CryptoKey };
  /** Every configured key by id: each opens values it sealed. */
  byId: ReadonlyMap<string, CryptoKey>;
}

export type OpenFailure = "malformed" | "unknown_key" | "corrupt";
export type OpenResult = { ok: true; value: string } | { ok: false; reason: OpenFailure };

/** The public name of a raw key: first 8 hex digits of its SHA-256. */
export async function keyIdOf(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  return Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function importKeyring(rawKeys: readonly Uint8Array[]): Promise<Keyring> {
  const entries = await Promise.all(
    rawKeys.map(async (raw) => ({
      id: await keyIdOf(raw),
      key: await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]),
    })),
  );
  const byId = new Map<string, CryptoKey>();
  // Two keys with one id (a key listed twice): the first wins, the same key either way.
  for (const entry of entries) if (!byId.has(entry.id)) byId.set(entry.id, entry.key);
  return { sealing: entries[0]!, byId };
}

// One import per key list: Config is parsed once per env object, so its key array is stable for the isolate.
const keyrings = new WeakMap<readonly Uint8Array[], Promise<Keyring>>();

/** The keyring of these raw keys (first seals), imported once and cached; null when there is no key. */
export function loadKeyring(rawKeys: readonly Uint8Array[]): Promise<Keyring> | null {
  if (rawKeys.length === 0) return null;
  let keyring = keyrings.get(rawKeys);
  if (!keyring) {
    keyring = importKeyring(rawKeys);
    keyrings.set(rawKeys, keyring);
  }
  return keyring;
}

/** Seal `plaintext` for `purpose` with the keyring's sealing key and a fresh random IV. */
export async function seal(keyring: Keyring, plaintext: string, purpose: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(purpose) },
    keyring.sealing.key,
    encoder.encode(plaintext),
  );
  return `${SEALED_PREFIX}${keyring.sealing.id}:${toBase64Url(iv)}:${toBase64Url(new Uint8Array(ciphertext))}`;
}

/** Open a value sealed for `purpose`. */
export async function open(keyring: Keyring, sealed: string, purpose: string): Promise<OpenResult> {
  if (!sealed.startsWith(SEALED_PREFIX)) return { ok: false, reason: "malformed" };
  const parts = sealed.slice(SEALED_PREFIX.length).split(":");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [keyId, ivText, ciphertextText] = parts as [string, string, string];
  const iv = fromBase64Any(ivText);
  const ciphertext = fromBase64Any(ciphertextText);
  if (!/^[0-9a-f]{8}$/.test(keyId) || iv?.length !== IV_BYTES || ciphertext === null || ciphertext.length < TAG_BYTES) {
    return { ok: false, reason: "malformed" };
  }
  const key = keyring.byId.get(keyId);
  if (!key) return { ok: false, reason: "unknown_key" };
  try {
    const plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(purpose) }, key, ciphertext);
    return { ok: true, value: decoder.decode(plaintext) };
  } catch {
    // The tag did not verify: tampered, another purpose, or not ours. Nothing of the value goes further.
    return { ok: false, reason: "corrupt" };
  }
}
