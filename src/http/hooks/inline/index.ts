/**
 * Okta inline hooks (docs/inline-hooks.md; https://developer.okta.com/docs/concepts/inline-hooks/): POST
 * /hooks/inline/<type> for token, registration,
 * password-import, saml, user-import and telephony.
 *
 * A request we cannot use (not JSON, too large, malformed, wrong `eventType` for the route, not the shape Okta
 * documents) gets our JSON error, 400/413/415: an HTTP error is what Okta expects when "your service couldn't
 * parse the request" (https://developer.okta.com/docs/concepts/inline-hooks/). Everything else is answered in Okta's
 * own format, 200 with commands/error
 * or 204 when there is nothing to say, always inside the deadline (see ./decide.ts); a repeat of a request Okta
 * retries gets the same answer (./retry-memo.ts). Each call is recorded in
 * inline_hook_calls after the answer (waitUntil), with the shape of the decision only.
 */
import { Hono, type Context } from "hono";
import { ApiError } from "../../../errors";
import { inlineHookHandlers as registeredHandlers } from "../../../handlers/index";
import type { InlineHookHandlers } from "../../../handlers/types";
import { describeError, log } from "../../../log";
import { INLINE_HOOK_EVENT_TYPES, INLINE_HOOK_TYPES, isEmptyResponse, type InlineHookType } from "../../../okta/inline/common";
import { INLINE_HOOK_SCHEMAS, type InlineHookRequest } from "../../../okta/inline/index";
import { summarizeResponse } from "../../../okta/inline/outcomes";
import { recordInlineCall } from "../../../storage/inline-calls";
import { describeFirstIssue } from "../../../validation";
import { readJsonBody } from "../../json-body";
import type { AppEnv } from "../../types";
import { requireInlineHookAuth } from "./auth";
import { decideInlineHook } from "../../../usecases/inline/decide";
import { recallOutcome, rememberOutcome, retryKey } from "../../../usecases/inline/retry-memo";

function describeEventType(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

async function answerInlineHook<T extends InlineHookType>(c: Context<AppEnv>, type: T, handlers: InlineHookHandlers) {
  const { config, requestId, receivedAt } = c.var;
  const fields = c.var.logFields;
  fields.inlineType = type;
  const body = await readJsonBody(c.req.raw, config.maxBodyBytes);
  const expected = INLINE_HOOK_EVENT_TYPES[type];
  const eventType = (body as { eventType?: unknown } | null)?.eventType;
  if (eventType !== expected) {
    throw new ApiError(
      "invalid_body",
      `eventType ${describeEventType(eventType)} does not match this route: /hooks/inline/${type} takes "${expected}".`,
    );
  }
  const parsed = INLINE_HOOK_SCHEMAS[type].request.safeParse(body);
  if (!parsed.success) {
    throw new ApiError("invalid_body", `Not an Okta ${expected} request: ${describeFirstIssue(parsed.error, body)}`);
  }
  const request = parsed.data as InlineHookRequest<T>;

  const memoKey = await retryKey(type, body);
  const remembered = recallOutcome<T>(memoKey, Date.now());
  const outcome = remembered
    ? { ...remembered, decidedBy: `repeat:${remembered.decidedBy}` }
    : await decideInlineHook({
        type,
        request,
        env: c.env,
        config,
        requestId,
        handler: handlers[type],
        budgetMs: config.inlineHook.deadlineMs - (Date.now() - receivedAt),
      });
  if (!remembered) rememberOutcome(memoKey, outcome, Date.now());
  const summary = summarizeResponse(outcome.response);
  fields.decision = summary.decision;
  fields.decidedBy = outcome.decidedBy;
  if (outcome.fallbackReason) fields.fallback = outcome.fallbackReason;

  const empty = isEmptyResponse(outcome.response);
  const status = empty ? 204 : 200;
  const envelope = request as { eventId?: string | null; requestType?: string | null; data: { context?: unknown } };
  const contextRequestId = (envelope.data.context as { request?: { id?: string | null } } | null | undefined)?.request?.id;
  c.executionCtx.waitUntil(
    recordInlineCall(c.env.DB, {
      hookType: type,
      requestType: envelope.requestType ?? null,
      oktaRequestId: c.req.header("x-okta-request-id") ?? contextRequestId ?? null,
      eventId: envelope.eventId ?? null,
      decision: summary.decision,
      decidedBy: outcome.decidedBy,
      fallbackReason: outcome.fallbackReason,
      commands: summary.commands,
      status,
      latencyMs: Date.now() - receivedAt,
      receivedAt,
    }).catch((error: unknown) =>
      log("warn", "inline hook call not recorded", { requestId, inlineType: type, error: describeError(error) }),
    ),
  );
  return empty ? c.body(null, 204) : c.json(outcome.response, 200);
}

/** The inline hook routes, deciding with `handlers` (the registry in src/handlers by default; tests pass their own). */
export function createInlineHookRoutes(handlers: InlineHookHandlers = registeredHandlers) {
  const routes = new Hono<AppEnv>();
  routes.use(requireInlineHookAuth);
  for (const type of INLINE_HOOK_TYPES) {
    routes.post(`/${type}`, (c) => answerInlineHook(c, type, handlers));
  }
  return routes;
}
