/**
 * One delivery attempt, typed by what happened, and the one pure function that decides what follows.
 *
 * An attempt ends in one of three ways, and each is its own case rather than a fake HTTP result:
 * - `refused`: the URL guard refused the destination's URL at send time (nothing was sent). Permanent: the URL
 *   will not become acceptable by waiting.
 * - `secrets-unavailable`: its sealed secrets cannot be opened (no SECRETS_ENCRYPTION_KEY, or the key that sealed
 *   them is gone). Nothing was sent, nothing is sent unsigned; transient, because restoring the key fixes it.
 * - `sent`: a request went out; its status (or its absence: timeout, network error) is classified by the retry
 *   policy (./backoff.ts).
 * `decide` maps an outcome to delivered, retry (with its delay) or dead (with its reason), per item, so a batch of
 * deliveries can be decided one by one. Pure: time and randomness are arguments.
 */
import { canRetry, classifyStatus, parseRetryAfter, retryDelaySeconds } from "./backoff";

/** What came back from one HTTP attempt (src/queue/send.ts). */
export interface SendResult {
  /** HTTP status, or null when no response came back. */
  status: number | null;
  /** Short reason for a failure (null on 2xx). */
  error: string | null;
  /** The Retry-After header of the response, if any. */
  retryAfter: string | null;
  latencyMs: number;
}

export type AttemptOutcome =
  | { kind: "refused"; reason: string }
  | { kind: "secrets-unavailable"; reason: string }
  | { kind: "sent"; result: SendResult };

export type AttemptDecision =
  | { kind: "delivered" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "dead"; reason: string };

export interface DecideInput {
  /** This attempt's number, 1 for the first. */
  attempt: number;
  /** Epoch ms of the attempt. */
  now: number;
  /** FORWARD_RETRY_BASE_SECONDS. */
  baseSeconds: number;
  /** A number in [0, 1): where the jitter lands. */
  random: number;
}

/** What the attempt row records: the status, the latency and the short error of the outcome. */
export function attemptRecord(outcome: AttemptOutcome): { status: number | null; latencyMs: number; error: string | null } {
  switch (outcome.kind) {
    case "refused":
      return { status: null, latencyMs: 0, error: `destination URL refused: ${outcome.reason}` };
    case "secrets-unavailable":
      return { status: null, latencyMs: 0, error: outcome.reason };
    case "sent":
      return { status: outcome.result.status, latencyMs: outcome.result.latencyMs, error: outcome.result.error };
  }
}

export function decide(outcome: AttemptOutcome, input: DecideInput): AttemptDecision {
  const { error } = attemptRecord(outcome);
  const verdict =
    outcome.kind === "refused" ? "permanent" : outcome.kind === "secrets-unavailable" ? "transient" : classifyStatus(outcome.result.status);
  if (verdict === "delivered") return { kind: "delivered" };
  if (verdict === "permanent") return { kind: "dead", reason: `permanent failure: ${error ?? "rejected"}` };
  if (!canRetry(input.attempt)) return { kind: "dead", reason: `retries exhausted after ${input.attempt} attempts: ${error ?? "failed"}` };
  const retryAfter = outcome.kind === "sent" ? parseRetryAfter(outcome.result.retryAfter, input.now) : undefined;
  return {
    kind: "retry",
    delaySeconds: retryDelaySeconds({ failedAttempts: input.attempt, baseSeconds: input.baseSeconds, random: input.random, retryAfterSeconds: retryAfter }),
  };
}
