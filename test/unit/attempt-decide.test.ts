/**
 * decide(): one attempt's typed outcome → delivered, retry (with its delay) or dead (with its reason). A table, since
 * the function is pure: time and randomness are arguments.
 */
import { describe, expect, it } from "vitest";
import { attemptRecord, decide, type AttemptOutcome } from "../../src/forwarding/attempt";
import { MAX_DELIVERY_ATTEMPTS } from "../../src/forwarding/backoff";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const sent = (status: number | null, extra: { retryAfter?: string; error?: string } = {}): AttemptOutcome => ({
  kind: "sent",
  result: { status, error: extra.error ?? (status !== null && status < 300 ? null : `HTTP ${status ?? "timeout"}`), retryAfter: extra.retryAfter ?? null, latencyMs: 42 },
});
const input = (attempt: number) => ({ attempt, now: NOW, baseSeconds: 5, random: 0.5 });

describe("decide", () => {
  it.each<[string, AttemptOutcome, number, ReturnType<typeof decide>]>([
    ["2xx", sent(204), 1, { kind: "delivered" }],
    ["500 on the first attempt: retry after the base delay", sent(500), 1, { kind: "retry", delaySeconds: 5 }],
    ["timeout (no status) on the third: ×3 twice", sent(null), 3, { kind: "retry", delaySeconds: 45 }],
    ["429 with Retry-After: 120 is a lower bound", sent(429, { retryAfter: "120" }), 1, { kind: "retry", delaySeconds: 120 }],
    ["408 is transient", sent(408), 2, { kind: "retry", delaySeconds: 15 }],
    ["400 is permanent", sent(400), 1, { kind: "dead", reason: "permanent failure: HTTP 400" }],
    ["301 is permanent (redirects are not followed)", sent(301), 1, { kind: "dead", reason: "permanent failure: HTTP 301" }],
    ["500 on the last attempt: dead, retries exhausted", sent(500), MAX_DELIVERY_ATTEMPTS, { kind: "dead", reason: `retries exhausted after ${MAX_DELIVERY_ATTEMPTS} attempts: HTTP 500` }],
    ["URL refused at send time: dead at once, whatever the attempt", { kind: "refused", reason: "points to a private address" }, 1, { kind: "dead", reason: "permanent failure: destination URL refused: points to a private address" }],
    ["secrets cannot be opened: retried (restoring the key fixes it)", { kind: "secrets-unavailable", reason: "signing secret cannot be decrypted: no_key" }, 1, { kind: "retry", delaySeconds: 5 }],
    ["secrets still unavailable on the last attempt: dead", { kind: "secrets-unavailable", reason: "signing secret cannot be decrypted: no_key" }, MAX_DELIVERY_ATTEMPTS, { kind: "dead", reason: `retries exhausted after ${MAX_DELIVERY_ATTEMPTS} attempts: signing secret cannot be decrypted: no_key` }],
  ])("%s", (_name, outcome, attempt, expected) => {
    expect(decide(outcome, input(attempt))).toEqual(expected);
  });

  it("jitter is ±20 % around the nominal delay", () => {
    expect(decide(sent(503), { ...input(1), random: 0 })).toEqual({ kind: "retry", delaySeconds: 4 });
    expect(decide(sent(503), { ...input(1), random: 0.999 })).toEqual({ kind: "retry", delaySeconds: 6 });
  });
});

describe("attemptRecord: what the attempt row holds", () => {
  it.each<[AttemptOutcome, ReturnType<typeof attemptRecord>]>([
    [sent(502), { status: 502, latencyMs: 42, error: "HTTP 502" }],
    [{ kind: "refused", reason: "is an internal name" }, { status: null, latencyMs: 0, error: "destination URL refused: is an internal name" }],
    [{ kind: "secrets-unavailable", reason: "okta auth value cannot be decrypted: unknown_key" }, { status: null, latencyMs: 0, error: "okta auth value cannot be decrypted: unknown_key" }],
  ])("%j", (outcome, expected) => {
    expect(attemptRecord(outcome)).toEqual(expected);
  });
});
