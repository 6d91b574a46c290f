/**
 * Deciding one inline hook call inside the deadline (docs/inline-hooks.md; Okta gives up after 3 s:
 * https://developer.okta.com/docs/concepts/inline-hooks/).
 *
 * Order: the rules (isolate cache, D1 only on a miss), then the team's handler if one is registered (it sees the
 * rules' decision and may return its own), else the rules' decision, else the type's default. The whole of it
 * races a timer; if the timer wins, or anything throws, or the result is not a valid Okta response under 256 KB,
 * the answer is the type's fallback (config INLINE_HOOK_FALLBACKS) and the reason is recorded. Late work is
 * told to stop through the handler's AbortSignal; its eventual result is ignored.
 */
import * as z from "zod";
import type { Config } from "../../config";
import type { Env } from "../../env";
import type { InlineHookHandler } from "../../handlers/types";
import { describeError, log } from "../../log";
import { MAX_RESPONSE_BYTES, isEmptyResponse, isResponseTooLarge, responseBytes, type InlineHookType } from "../../okta/inline/common";
import { INLINE_HOOK_SCHEMAS, type InlineHookRequest, type InlineHookResponses } from "../../okta/inline/index";
import { defaultResponse, fallbackResponse } from "../../okta/inline/outcomes";
import { decideByRules } from "../../okta/inline/rules/evaluate";
import { cachedLookup, cachedRules } from "../../storage/inline-rule-cache";
import { describeFirstIssue } from "../../validation";

export type FallbackReason = "deadline" | "handler_error" | "rule_error" | "invalid_response" | "response_too_large";

export interface InlineOutcome<T extends InlineHookType> {
  /** What we send; empty means 204. */
  response: InlineHookResponses[T];
  /** "rules:<id>,…", "handler", "default" or "fallback". */
  decidedBy: string;
  fallbackReason: FallbackReason | null;
}

export interface DecideInput<T extends InlineHookType> {
  type: T;
  request: InlineHookRequest<T>;
  env: Env;
  config: Config;
  requestId: string;
  handler: InlineHookHandler<T> | undefined;
  /** Milliseconds left before we must answer. */
  budgetMs: number;
  /** Work that may finish after the answer (renewing the isolate's copy of the rules). */
  waitUntil?: (work: Promise<unknown>) => void;
}

class DeadlineExceeded extends Error {
  constructor() {
    super("inline hook deadline exceeded");
    this.name = "DeadlineExceeded";
  }
}

type Attempt<T extends InlineHookType> =
  | { ok: true; response: InlineHookResponses[T]; decidedBy: string }
  | { ok: false; reason: FallbackReason; error?: unknown };

async function attempt<T extends InlineHookType>(input: DecideInput<T>, signal: AbortSignal): Promise<Attempt<T>> {
  const { type, request, env, config, requestId } = input;
  const now = Date.now();
  const ttl = config.inlineHook.rulesCacheTtlMs;
  let rulesDecision;
  try {
    const rules = await cachedRules(env.DB, type, ttl, now, input.waitUntil);
    rulesDecision = await decideByRules(type, request, rules, cachedLookup(env.DB, ttl, now, input.waitUntil));
  } catch (error) {
    return { ok: false, reason: "rule_error", error };
  }
  if (input.handler) {
    try {
      const eventId = (request as { eventId?: string | null }).eventId ?? null;
      const response = await input.handler(request, {
        type,
        env,
        config,
        signal,
        requestId,
        eventId,
        rules: rulesDecision,
        log: (level, msg, fields = {}) => log(level, msg, { requestId, inlineType: type, ...fields }),
      });
      if (response !== undefined) return { ok: true, response, decidedBy: "handler" };
    } catch (error) {
      return { ok: false, reason: "handler_error", error };
    }
  }
  if (rulesDecision) return { ok: true, response: rulesDecision.response, decidedBy: `rules:${rulesDecision.ruleIds.join(",")}` };
  return { ok: true, response: defaultResponse(type), decidedBy: "default" };
}

function fallback<T extends InlineHookType>(input: DecideInput<T>, reason: FallbackReason): InlineOutcome<T> {
  return {
    response: fallbackResponse(input.type, input.config.inlineHook.fallbacks[input.type]),
    decidedBy: "fallback",
    fallbackReason: reason,
  };
}

export async function decideInlineHook<T extends InlineHookType>(input: DecideInput<T>): Promise<InlineOutcome<T>> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DeadlineExceeded());
      resolve("deadline");
    }, Math.max(0, input.budgetMs));
  });
  const result = await Promise.race([attempt(input, controller.signal), deadline]);
  if (timer !== undefined) clearTimeout(timer);
  const logFailure = (reason: FallbackReason, detail: string) =>
    log("warn", "inline hook fallback", { requestId: input.requestId, inlineType: input.type, reason, detail });

  if (result === "deadline") {
    logFailure("deadline", `no decision within ${input.budgetMs} ms`);
    return fallback(input, "deadline");
  }
  if (!result.ok) {
    logFailure(result.reason, describeError(result.error));
    return fallback(input, result.reason);
  }
  // An empty answer from a handler means the type's default (e.g. FAILED for telephony).
  const response = isEmptyResponse(result.response) ? defaultResponse(input.type) : result.response;
  const schema = INLINE_HOOK_SCHEMAS[input.type].response as z.ZodType;
  const valid = schema.safeParse(response);
  if (!valid.success) {
    logFailure("invalid_response", describeFirstIssue(valid.error, response));
    return fallback(input, "invalid_response");
  }
  if (isResponseTooLarge(response)) {
    logFailure("response_too_large", `response is ${responseBytes(response)} bytes; Okta accepts < ${MAX_RESPONSE_BYTES}`);
    return fallback(input, "response_too_large");
  }
  return { response, decidedBy: result.decidedBy, fallbackReason: null };
}
