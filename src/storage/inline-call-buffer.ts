/**
 * Coalescing the inline hook audit in the isolate: calls of one hook type gather in a buffer and are written as
 * ONE inline_call_batches row (./inline-calls.ts) when INLINE_AUDIT_BATCH_CALLS have gathered or `flushAfterMs`
 * after the first, whichever comes first. A D1 write per call would be the most expensive thing an inline hook does.
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
import { baseDatabase, storageDatabase } from "./d1";
import { insertInlineCallBatch, type InlineCallRecord } from "./inline-calls";

/** Calls per row, at most: a row stays far below D1's limits (~300 bytes a call) and a flush well under a second. */
export const INLINE_AUDIT_BATCH_CALLS = 100;

interface PendingBatch {
  calls: InlineCallRecord[];
  written: Promise<void>;
  flush: () => void;
}

const buffers = new WeakMap<D1Database, Map<InlineHookType, PendingBatch>>();

async function write(db: D1Database, type: InlineHookType, calls: InlineCallRecord[]): Promise<void> {
  try {
    await insertInlineCallBatch(db, type, calls);
    return;
  } catch (first) {
    try {
      await insertInlineCallBatch(db, type, calls);
      return;
    } catch (second) {
      log("error", "inline hook calls not recorded", {
        inlineType: type,
        calls: calls.length,
        error: describeError(second),
        firstError: describeError(first),
      });
    }
  }
}

function openBatch(db: D1Database, open: Map<InlineHookType, PendingBatch>, type: InlineHookType, flushAfterMs: number): PendingBatch {
  let resolve!: () => void;
  const written = new Promise<void>((r) => (resolve = r));
  let flushed = false;
  const batch: PendingBatch = {
    calls: [],
    written,
    flush() {
      // Idempotent: the timer may fire after a full buffer was already flushed (a timer cannot be cleared from
      // another request's context).
      if (flushed) return;
      flushed = true;
      if (open.get(type) === batch) open.delete(type);
      void write(db, type, batch.calls).then(resolve);
    },
  };
  setTimeout(() => batch.flush(), flushAfterMs);
  open.set(type, batch);
  return batch;
}

/**
 * Adds `call` to its type's buffer and returns the promise of the write that will carry it: hand it to the
 * request's waitUntil. Never rejects.
 */
export function bufferInlineCall(db: D1Database, call: InlineCallRecord, flushAfterMs: number): Promise<void> {
  const binding = baseDatabase(db);
  let open = buffers.get(binding);
  if (!open) {
    open = new Map();
    buffers.set(binding, open);
  }
  const batch = open.get(call.hookType) ?? openBatch(storageDatabase(binding), open, call.hookType, flushAfterMs);
  batch.calls.push(call);
  if (batch.calls.length >= INLINE_AUDIT_BATCH_CALLS) {
    // Full: later calls start a new buffer at once; the write itself waits for this request to have answered.
    open.delete(call.hookType);
    setTimeout(() => batch.flush(), 0);
  }
  return batch.written;
}
