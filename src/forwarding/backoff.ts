/**
 * The retry policy of forwarded deliveries (docs/forwarding.md): which attempt outcomes are retried, and when.
 *
 * - 2xx is delivered. Timeouts, network errors, 408, 429 and 5xx are transient; every other status (3xx included:
 *   redirects are never followed, a moved endpoint must be re-configured) is permanent. This is the Standard
 *   Webhooks recommendation and what Hook0 does; Svix retries every non-2xx.
 * - Delays grow ×3 from a base (default 5 s) and are capped at 12 h, the longest delay Cloudflare Queues accept:
 *   5 s, 15 s, 45 s, 2¼ min, 6¾ min, 20¼ min, ~1 h, ~3 h, ~9 h, 12 h, 12 h, 12 h — 12 retries after the first
 *   attempt, ~49.7 h in all (Svix: 7 retries over ~27.6 h; Convoy: 10 linear retries over ~17 min by default).
 * - Jitter of ±20 % on every delay spreads a burst of failures. Even at −20 % on every delay the schedule spans
 *   ~39.7 h, so the "at least 24 hours" promise holds whatever the dice say.
 * - Retry-After (delta-seconds or an HTTP-date) is honoured as a lower bound: we never come back sooner than the
 *   receiver asked, nor later than 12 h.
 *
 * Pure: randomness and time are arguments.
 */

/** Cloudflare Queues' ceiling for a message delay (`retry({delaySeconds})`). */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;
/** Attempts per delivery, the first one included. */
export const MAX_DELIVERY_ATTEMPTS = 13;
/** Growth factor between consecutive delays. */
export const BACKOFF_FACTOR = 3;
/** Relative jitter applied to each delay: ±20 %, as Svix. */
export const JITTER_RATIO = 0.2;

export type AttemptVerdict = "delivered" | "transient" | "permanent";

/** Classify an attempt from its HTTP status, or `null` when no response came back (timeout, network error). */
export function classifyStatus(status: number | null): AttemptVerdict {
  if (status === null) return "transient";
  if (status >= 200 && status <= 299) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "transient";
  return "permanent";
}

/** The delay before retry number `failedAttempts` (1 after the first failure), without jitter, in seconds. */
export function nominalDelaySeconds(failedAttempts: number, baseSeconds: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  return Math.min(MAX_QUEUE_DELAY_SECONDS, baseSeconds * BACKOFF_FACTOR ** exponent);
}

/** The whole nominal schedule for a base: one delay per retry. */
export function nominalSchedule(baseSeconds: number): number[] {
  return Array.from({ length: MAX_DELIVERY_ATTEMPTS - 1 }, (_, i) => nominalDelaySeconds(i + 1, baseSeconds));
}

/**
 * Seconds the receiver asked us to wait (`Retry-After`: delta-seconds or HTTP-date), or undefined when the header
 * is absent or unusable. `now` in epoch milliseconds.
 */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP-date names its month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would read "-5" as a year.
  if (!/[A-Za-z]{3}/.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export interface RetryDelayInput {
  /** Failed attempts so far, the one just made included (≥ 1). */
  failedAttempts: number;
  baseSeconds: number;
  /** A number in [0, 1): where the jitter lands. */
  random: number;
  /** From parseRetryAfter, when the receiver sent one. */
  retryAfterSeconds?: number;
}

/** The delay before the next attempt, in whole seconds, within [1, MAX_QUEUE_DELAY_SECONDS]. */
export function retryDelaySeconds(input: RetryDelayInput): number {
  const nominal = nominalDelaySeconds(input.failedAttempts, input.baseSeconds);
  const jittered = nominal * (1 - JITTER_RATIO + 2 * JITTER_RATIO * input.random);
  const atLeast = Math.max(jittered, input.retryAfterSeconds ?? 0);
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.round(atLeast)));
}

/** Whether a delivery that has failed `failedAttempts` times may be tried again. */
export function canRetry(failedAttempts: number): boolean {
  return failedAttempts < MAX_DELIVERY_ATTEMPTS;
}
