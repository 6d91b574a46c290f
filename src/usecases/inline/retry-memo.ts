/**
 * Okta retries registration, password import, SAML and user import calls once after a timeout or a 5xx
 * (https://developer.okta.com/docs/concepts/inline-hooks/; token and telephony are never retried). Rules are
 * deterministic, but a team's handler may not
 * be (it may call a service whose answer changes, or count), so the decision for a request is remembered in the
 * isolate for RETRY_MEMO_TTL_MS and a repeat of the exact same body gets the same answer.
 *
 * Only handler decisions are remembered (rules are deterministic already, and an admin change must apply to the
 * next call), and only the SHA-256 of the body's bytes is kept, never the body (a password import body holds
 * the password). Fallback answers are not remembered: a retry deserves a real attempt. A retry that lands on another isolate is decided
 * again, so handlers should still be deterministic, or idempotent on the request's eventId.
 */
import type { InlineHookType } from "../../okta/inline/common";
import type { InlineOutcome } from "./decide";

export const RETRIED_TYPES: ReadonlySet<InlineHookType> = new Set(["registration", "password-import", "saml", "user-import"]);
export const RETRY_MEMO_TTL_MS = 60_000;
export const MAX_RETRY_MEMO_ENTRIES = 1000;

const memo = new Map<string, { outcome: InlineOutcome<InlineHookType>; at: number }>();

const encoder = new TextEncoder();

/**
 * The memo key of a request of a retried type, or null for types Okta never retries: the SHA-256 of the body as
 * received (Okta's retry sends the same bytes), computed only for the types that need it.
 */
export async function retryKey(type: InlineHookType, rawBody: string): Promise<string | null> {
  if (!RETRIED_TYPES.has(type)) return null;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(rawBody)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return `${type}:${hex}`;
}

export function recallOutcome<T extends InlineHookType>(key: string | null, now: number): InlineOutcome<T> | null {
  if (key === null) return null;
  const hit = memo.get(key);
  if (!hit) return null;
  if (now - hit.at >= RETRY_MEMO_TTL_MS) {
    memo.delete(key);
    return null;
  }
  return hit.outcome as InlineOutcome<T>;
}

export function rememberOutcome(key: string | null, outcome: InlineOutcome<InlineHookType>, now: number): void {
  if (key === null || outcome.fallbackReason !== null || outcome.decidedBy !== "handler") return;
  if (memo.size >= MAX_RETRY_MEMO_ENTRIES) {
    // Maps iterate in insertion order: drop the oldest.
    const oldest = memo.keys().next().value;
    if (oldest !== undefined) memo.delete(oldest);
  }
  memo.set(key, { outcome, at: now });
}
