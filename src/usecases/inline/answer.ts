/**
 * Answering one inline hook call, once the route has parsed and validated it: a repeat of a request Okta retries
 * gets the answer the first one got (./retry-memo.ts); otherwise the rules and the team's handler decide inside the
 * deadline (./decide.ts). The call is recorded after the answer, with the shape of the decision only — never
 * passwords, OTP codes, tokens or claim values — in the isolate's audit buffer, which writes many calls to one D1 row
 * (src/storage/inline-call-buffer.ts); the request's waitUntil holds the write that carries its call.
 */
import type { Config } from "../../config";
import type { Env } from "../../env";
import type { InlineHookHandler } from "../../handlers/types";
import { isEmptyResponse, type InlineHookType } from "../../okta/inline/common";
import type { InlineHookRequest } from "../../okta/inline/index";
import { summarizeResponse } from "../../okta/inline/outcomes";
import { bufferInlineCall } from "../../storage/inline-call-buffer";
import type { InlineCallRecord } from "../../storage/inline-calls";
import { decideInlineHook, type InlineOutcome } from "./decide";
import { recallOutcome, rememberOutcome, retryKey } from "./retry-memo";

export interface AnswerDeps<T extends InlineHookType> {
  env: Env;
  config: Config;
  requestId: string;
  /** Epoch ms the request arrived: the deadline counts from here. */
  receivedAt: number;
  handler: InlineHookHandler<T> | undefined;
  /** Okta's x-okta-request-id header, when it sent one. */
  oktaRequestId: string | null;
  /** Work that may finish after the answer (the audit record). */
  waitUntil: (work: Promise<unknown>) => void;
}

export async function answerInlineCall<T extends InlineHookType>(
  deps: AnswerDeps<T>,
  type: T,
  request: InlineHookRequest<T>,
  /** The body as received: the retry memo's key is its digest. */
  rawBody: string,
): Promise<{ outcome: InlineOutcome<T>; summary: ReturnType<typeof summarizeResponse>; empty: boolean }> {
  const { env, config, requestId, receivedAt } = deps;
  const memoKey = await retryKey(type, rawBody);
  const remembered = recallOutcome<T>(memoKey, Date.now());
  const outcome = remembered
    ? { ...remembered, decidedBy: `repeat:${remembered.decidedBy}` }
    : await decideInlineHook({
        type,
        request,
        env,
        config,
        requestId,
        handler: deps.handler,
        budgetMs: config.inlineHook.deadlineMs - (Date.now() - receivedAt),
        waitUntil: deps.waitUntil,
      });
  if (!remembered) rememberOutcome(memoKey, outcome, Date.now());
  const summary = summarizeResponse(outcome.response);

  const empty = isEmptyResponse(outcome.response);
  const status = empty ? 204 : 200;
  const envelope = request as { eventId?: string | null; requestType?: string | null; data: { context?: unknown } };
  const contextRequestId = (envelope.data.context as { request?: { id?: string | null } } | null | undefined)?.request?.id;
  const call: InlineCallRecord = {
    hookType: type,
    requestType: envelope.requestType ?? null,
    oktaRequestId: deps.oktaRequestId ?? contextRequestId ?? null,
    eventId: envelope.eventId ?? null,
    decision: summary.decision,
    decidedBy: outcome.decidedBy,
    fallbackReason: outcome.fallbackReason,
    commands: summary.commands,
    status,
    latencyMs: Date.now() - receivedAt,
    receivedAt,
  };
  deps.waitUntil(bufferInlineCall(env.DB, call, config.inlineHook.auditFlushMs));
  return { outcome, summary, empty };
}
