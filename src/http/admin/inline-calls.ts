/**
 * GET /admin/api/inline-calls (docs/inline-hooks.md "Finding inline hook calls"): the inline hook audit searched by
 * type, time, decision, decided-by and fallback reason, newest first, a keyset page at a time.
 *
 * A page reads a bounded number of D1 rows: up to SEARCH_ROUNDS reads of listInlineCalls (src/storage/inline-calls.ts:
 * at most 20 audit rows per type each), stopping as soon as the page is full or nothing older is left. Type and
 * time narrow those reads through the index; the other filters are judged on the decoded calls, so a rare match
 * answers a short page — even an empty one — with a `nextCursor`: only a null `nextCursor` means the end.
 */
import { Hono } from "hono";
import { encodeInlineCallCursor, listInlineCalls, type InlineCallCursor, type InlineCallRecord } from "../../storage/inline-calls";
import type { AppEnv } from "../types";
import { readValidatedQuery } from "../validated-query";
import { inlineCallSearchQuerySchema, toCallMatch } from "./inline-calls-input";

/**
 * Reads of listInlineCalls one page may make, each of at most MAX_BATCH_ROWS_PER_PAGE (20) rows per type: 80 rows
 * for one type, 480 over all six (docs/inline-hooks.md "Finding inline hook calls" has the measured figures).
 */
export const SEARCH_ROUNDS = 4;

const iso = (ms: number) => new Date(ms).toISOString();

/** A call as the API answers it: camelCase, ISO time, nulls kept. */
export function inlineCallView(call: InlineCallRecord) {
  return {
    type: call.hookType,
    receivedAt: iso(call.receivedAt),
    requestType: call.requestType,
    oktaRequestId: call.oktaRequestId,
    eventId: call.eventId,
    decision: call.decision,
    decidedBy: call.decidedBy,
    fallbackReason: call.fallbackReason,
    commands: call.commands,
    status: call.status,
    latencyMs: call.latencyMs,
  };
}

export const inlineCallRoutes = new Hono<AppEnv>();

inlineCallRoutes.get("/", async (c) => {
  const query = readValidatedQuery(c.req.url, inlineCallSearchQuerySchema);
  const match = toCallMatch(query);
  const calls: InlineCallRecord[] = [];
  let cursor: InlineCallCursor | null | undefined = query.cursor;
  for (let round = 0; round < SEARCH_ROUNDS; round++) {
    const page = await listInlineCalls(c.env.DB, {
      ...(query.type && { type: query.type }),
      ...(query.since !== undefined && { from: query.since }),
      ...(query.until !== undefined && { to: query.until }),
      limit: query.limit - calls.length,
      ...(cursor && { cursor }),
      ...(match && { match }),
    });
    calls.push(...page.calls);
    cursor = page.cursor;
    if (cursor === null || calls.length >= query.limit) break;
  }
  c.var.logFields.found = calls.length;
  return c.json({ calls: calls.map(inlineCallView), nextCursor: cursor ? encodeInlineCallCursor(cursor) : null });
});
