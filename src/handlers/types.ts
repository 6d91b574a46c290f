/**
 * The contract between the gateway and a team's TypeScript inline hook handler (see docs/inline-hooks.md).
 *
 * A handler receives the validated, typed request and a context, and returns the response built with the
 * builders of src/okta/inline/<type>.ts — or undefined to keep what the rules decided (or the type's default).
 * The gateway validates whatever it returns against Okta's response schema before sending it, answers the
 * per-type fallback if it throws or is still running at the deadline (the context's `signal` aborts then), and
 * records the call. Handlers must be deterministic in the request (Okta retries registration, password import,
 * SAML and user import once), or make their side effects idempotent on `eventId`.
 */
import type { Config } from "../config";
import type { Env } from "../env";
import type { LogFields, LogLevel } from "../log";
import type { InlineHookType } from "../okta/inline/common";
import type { InlineHookRequest, InlineHookResponses } from "../okta/inline/index";
import type { RuleDecision } from "../okta/inline/rules/evaluate";

export interface InlineHookContext<T extends InlineHookType> {
  type: T;
  env: Env;
  config: Config;
  /** Aborted when the deadline passes: pass it to fetch() and D1-independent waits so late work stops. */
  signal: AbortSignal;
  /** Writes a log line tagged with the request id; never pass passwords, OTPs, tokens or claim values. */
  log: (level: LogLevel, msg: string, fields?: LogFields) => void;
  requestId: string;
  /** Okta's eventId of this call (stable across Okta's retry, as far as Okta documents): an idempotency key. */
  eventId: string | null;
  /** What the declarative rules decided, or null when no rule applied. */
  rules: RuleDecision<T> | null;
}

export type InlineHookHandler<T extends InlineHookType> = (
  request: InlineHookRequest<T>,
  context: InlineHookContext<T>,
) => InlineHookResponses[T] | undefined | Promise<InlineHookResponses[T] | undefined>;

export type InlineHookHandlers = { [T in InlineHookType]?: InlineHookHandler<T> };
