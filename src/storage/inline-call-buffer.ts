/**
 * Coalescing the inline hook audit in the isolate: calls of one hook type gather in a buffer and are written as
 * ONE inline_call_batches row (./inline-calls.ts) when INLINE_AUDIT_BATCH_CALLS have gathered or `flushAfterMs`
 * after the first, whichever comes first (./coalescing-buffer.ts). A D1 write per call would be the most expensive
 * thing an inline hook does.
 *
 * No call relies on the isolate outliving its request: `bufferInlineCall` returns the promise of the flush that
 * will write the call, and every request whose call is in a buffer hands that promise to its own waitUntil, so the
 * runtime keeps the request (and the isolate) until its call is in D1. Buffers are per D1 binding (the binding,
 * not a request's metering wrapper: the write happens after the request's log line, so it is not counted there).
 *
 * A failed write is retried once; if that fails too, the calls are dropped and one error line says how many, never
 * what they were. The promise always resolves.
 */
import { describeError, log } from "../log";
import type { InlineHookType } from "../okta/inline/common";
import { CoalescingBuffer } from "./coalescing-buffer";
import { baseDatabase, storageDatabase } from "./d1";
import { insertInlineCallBatch, type InlineCallRecord } from "./inline-calls";

/** Calls per row, at most: a row stays far below D1's limits (~300 bytes a call) and a flush well under a second. */
export const INLINE_AUDIT_BATCH_CALLS = 100;

const buffers = new WeakMap<D1Database, Map<InlineHookType, CoalescingBuffer<InlineCallRecord>>>();

function auditBuffer(db: D1Database, type: InlineHookType): CoalescingBuffer<InlineCallRecord> {
  return new CoalescingBuffer<InlineCallRecord>({
    maxItems: INLINE_AUDIT_BATCH_CALLS,
    write: (calls) => insertInlineCallBatch(db, type, calls),
    failed: (calls, error, firstError) => {
      log("error", "inline hook calls not recorded", {
        inlineType: type,
        calls: calls.length,
        error: describeError(error),
        firstError: describeError(firstError),
      });
    },
  });
}

/**
 * Adds `call` to its type's buffer and returns the promise of the write that will carry it: hand it to the
 * request's waitUntil. Never rejects.
 */
export function bufferInlineCall(db: D1Database, call: InlineCallRecord, flushAfterMs: number): Promise<void> {
  const binding = baseDatabase(db);
  let byType = buffers.get(binding);
  if (!byType) {
    byType = new Map();
    buffers.set(binding, byType);
  }
  let buffer = byType.get(call.hookType);
  if (!buffer) {
    buffer = auditBuffer(storageDatabase(binding), call.hookType);
    byType.set(call.hookType, buffer);
  }
  return buffer.add(call, flushAfterMs);
}
