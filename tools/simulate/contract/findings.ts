/**
 * What the simulator found about one answer: an error is something Okta would reject or treat as a failed call
 * (the run exits non-zero); a warning is allowed but not what Okta documents. Messages name the field and the rule,
 * never a value from the request or the answer (a password, an OTP code, a claim value).
 */

/** Okta waits this long for any hook's answer (https://developer.okta.com/docs/concepts/event-hooks/, /inline-hooks/). */
export const OKTA_TIMEOUT_MS = 3_000;

export type Severity = "error" | "warning";

export interface Finding {
  severity: Severity;
  message: string;
}

export const error = (message: string): Finding => ({ severity: "error", message });
export const warning = (message: string): Finding => ({ severity: "warning", message });

/** An HTTP answer as the simulator received it. */
export interface Answer {
  /** 0 when there was no HTTP answer (see `failure`). */
  status: number;
  contentType: string | null;
  /** The body as text, cut after `maxBytes` + 1 bytes (enough to know it is too large). */
  body: string;
  /** Bytes of the body received (all of it, or `maxBytes` + 1 when it was cut). */
  bytes: number;
  /** Time from sending to the last byte of the body, in ms. */
  ms: number;
  /** Why there was no answer: "timeout" (Okta gave up) or a network error's message. */
  failure?: { kind: "timeout" | "network"; message: string };
}

export function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType.trim());
}

/** Time and transport: no answer, or one slower than Okta waits. `consequence` says what Okta then does. */
export function checkTransport(answer: Answer, consequence: string): Finding[] {
  if (answer.failure?.kind === "timeout") {
    return [error(`no answer within ${OKTA_TIMEOUT_MS / 1000} s: Okta gives up (${consequence})`)];
  }
  if (answer.failure) return [error(`no HTTP answer (${answer.failure.message}): ${consequence}`)];
  if (answer.ms > OKTA_TIMEOUT_MS) {
    return [error(`answered in ${answer.ms} ms, after Okta's ${OKTA_TIMEOUT_MS / 1000} s timeout: ${consequence}`)];
  }
  return [];
}
