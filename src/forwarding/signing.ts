/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, spec/standard-webhooks.md):
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret, "${id}.${timestamp}.${body}")>`, several space-separated
 * during a secret rotation; secrets are `whsec_` + base64 of 32 random bytes (the spec allows 24–64).
 *
 * `webhook-id` is derived from the event uuid and the destination id, so it is the same on every retry and a
 * receiver can de-duplicate on it; it differs per destination, so two destinations never share ids. A replay
 * (docs/forwarding.md "Replay") is a new message: its id is derived from the replay job as well, so a receiver
 * that de-duplicates processes it, and it is the same on every retry of that replay.
 *
 * WebCrypto only (no dependency).
 */

import { fromBase64Any, toBase64 } from "../crypto/base64";

export const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

/** A new signing secret, `whsec_` + base64 of 32 bytes from crypto.getRandomValues. */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The key bytes of a `whsec_…` secret (the prefix is optional, as in the reference libraries). */
export function secretKeyBytes(secret: string): Uint8Array {
  const bytes = fromBase64Any(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (bytes === null) throw new Error("signing secret is not base64");
  return bytes;
}

/** One `v1,<base64>` signature of `${id}.${timestamp}.${body}`. */
export async function signV1(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", secretKeyBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The `webhook-signature` value: one signature per secret, space-separated (current first). */
export async function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const signatures = await Promise.all(secrets.map((secret) => signV1(secret, id, timestampSeconds, body)));
  return signatures.join(" ");
}

export interface SigningSecrets {
  current: string;
  previous: string | null;
  /** Epoch ms after which `previous` no longer signs. */
  previousExpiresAt: number | null;
}

/** The secrets that sign at `now`: the current one, plus the previous one during its grace period. */
export function activeSecrets(secrets: SigningSecrets, now: number): string[] {
  const active = [secrets.current];
  if (secrets.previous !== null && secrets.previousExpiresAt !== null && now < secrets.previousExpiresAt) {
    active.push(secrets.previous);
  }
  return active;
}

async function messageId(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  const hex = Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `msg_${hex}`;
}

/** A stable id for (event, destination): `msg_` + 32 hex digits of SHA-256. */
export async function deliveryMessageId(eventUuid: string, destinationId: string): Promise<string> {
  return messageId(`${eventUuid}\n${destinationId}`);
}

/** The id of (event, destination) sent again by replay job `jobId`: stable across that replay's retries only. */
export async function replayMessageId(eventUuid: string, destinationId: string, jobId: number): Promise<string> {
  return messageId(`${eventUuid}\n${destinationId}\nreplay ${jobId}`);
}
