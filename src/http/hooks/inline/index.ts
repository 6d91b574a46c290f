/**
 * Okta inline hooks (docs/inline-hooks.md; https://developer.okta.com/docs/concepts/inline-hooks/):
 * POST /hooks/inline/<type> for token, registration, password-import, saml, user-import and telephony.
 *
 * A request we cannot use (not JSON, too large, malformed, wrong `eventType` for the route, not the shape Okta
 * documents) gets our JSON error, 400/413/415: an HTTP error is what Okta expects when "your service couldn't parse
 * the request". Everything else is answered in Okta's own format, 200 with commands/error or 204 when there is
 * nothing to say, always inside the deadline; src/usecases/inline/answer.ts decides (a repeat of a request Okta
 * retries gets the same answer) and records the call after the answer, with the shape of the decision only.
 */
import { Hono, type Context } from "hono";
import { ApiError } from "../../../errors";
import { inlineHookHandlers as registeredHandlers } from "../../../handlers/index";
import type { InlineHookHandlers } from "../../../handlers/types";
import { INLINE_HOOK_EVENT_TYPES, INLINE_HOOK_TYPES, type InlineHookType } from "../../../okta/inline/common";
import { INLINE_HOOK_SCHEMAS, type InlineHookRequest } from "../../../okta/inline/index";
import { describeFirstIssue } from "../../../validation";
import { readJsonText } from "../../json-body";
import type { AppEnv } from "../../types";
import { requireInlineHookAuth } from "./auth";
import { answerInlineCall } from "../../../usecases/inline/answer";

function describeEventType(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

async function answerInlineHook<T extends InlineHookType>(c: Context<AppEnv>, type: T, handlers: InlineHookHandlers) {
  const { config, requestId, receivedAt } = c.var;
  const fields = c.var.logFields;
  fields.inlineType = type;
  const { text, value: body } = await readJsonText(c.req.raw, config.maxBodyBytes);
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

  const { outcome, summary, empty } = await answerInlineCall(
    {
      env: c.env,
      config,
      requestId,
      receivedAt,
      handler: handlers[type],
      oktaRequestId: c.req.header("x-okta-request-id") ?? null,
      waitUntil: (work) => c.executionCtx.waitUntil(work),
    },
    type,
    request,
    text,
  );
  fields.decision = summary.decision;
  fields.decidedBy = outcome.decidedBy;
  if (outcome.fallbackReason) fields.fallback = outcome.fallbackReason;
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
