/**
 * The inline hook audit log (table inline_hook_calls, migrations/0003_inline_hooks.sql). The caller passes only
 * the shape of a decision (see summarizeResponse in src/okta/inline/outcomes.ts): no password, OTP, token or claim
 * value ever reaches this table.
 */
import type { InlineHookType } from "../okta/inline/common";

export interface InlineCallRecord {
  hookType: InlineHookType;
  requestType: string | null;
  oktaRequestId: string | null;
  eventId: string | null;
  decision: string;
  decidedBy: string;
  fallbackReason: string | null;
  commands: string[];
  status: number;
  latencyMs: number;
  receivedAt: number;
}

export async function recordInlineCall(db: D1Database, call: InlineCallRecord): Promise<void> {
  await db
    .prepare(
      `INSERT INTO inline_hook_calls (hook_type, request_type, okta_request_id, event_id, decision, decided_by,
                                      fallback_reason, commands, status, latency_ms, received_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    )
    .bind(
      call.hookType,
      call.requestType,
      call.oktaRequestId,
      call.eventId,
      call.decision,
      call.decidedBy,
      call.fallbackReason,
      JSON.stringify(call.commands),
      call.status,
      call.latencyMs,
      call.receivedAt,
    )
    .run();
}
