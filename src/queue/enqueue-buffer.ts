/**
 * Coalescing the forward queue's producer in the isolate: the outbox batch ids of the deliveries an isolate stores
 * gather in a buffer and are sent as ONE {kind:"batches"} message when FORWARD_ENQUEUE_WINDOW_MS have passed since
 * the first, or at once when MAX_BATCHES_PER_MESSAGE have gathered (src/storage/coalescing-buffer.ts). Each queue
 * message costs three billed operations (write, read, delete); one per Okta delivery made light traffic, which Okta
 * sends one event at a time, cost three operations per event.
 *
 * Nothing here sits in Okta's request path: a batch is safe in `forward_outbox` once D1 has answered, so the route
 * answers first, and `bufferBatchIds` returns the promise of the flush that carries its ids, which the request hands
 * to its waitUntil (the runtime keeps the request and the isolate until the message is sent). Buffers are per queue
 * binding and D1 binding: the bindings themselves, not a request's metering wrapper of the env (src/storage/d1.ts
 * meteredEnv copies the queue binding as it is and wraps D1, see `baseDatabase`); the flush runs after the request's
 * log line, so its D1 write, if any, is not counted there.
 *
 * A failed send is retried once. If that fails too, the batches are marked "not enqueued", so the outbox sweeper
 * (src/jobs/outbox-sweep.ts) sends them on its next run once OUTBOX_MIN_AGE_MS old instead of after the 30-minute
 * lost-message grace, and one error line gives their count and ids (never event content). If the isolate dies
 * before a flush, or the marking fails, the sweeper still finds the batches after that grace: nothing is lost.
 */
import { describeError, log } from "../log";
import { CoalescingBuffer } from "../storage/coalescing-buffer";
import { baseDatabase, storageDatabase } from "../storage/d1";
import { markOutboxNotEnqueued } from "../storage/events";
import { enqueueBatches } from "./enqueue";
import { MAX_BATCHES_PER_MESSAGE, type ForwardMessage } from "./messages";

const buffers = new WeakMap<Queue<ForwardMessage>, WeakMap<D1Database, CoalescingBuffer<number>>>();

function forwardBuffer(queue: Queue<ForwardMessage>, db: D1Database): CoalescingBuffer<number> {
  return new CoalescingBuffer<number>({
    maxItems: MAX_BATCHES_PER_MESSAGE,
    write: async (batchIds) => {
      const { error } = await enqueueBatches(queue, batchIds);
      if (error !== undefined) throw error;
    },
    failed: async (batchIds, error, firstError) => {
      let marked = true;
      let markError: string | undefined;
      try {
        await markOutboxNotEnqueued(db, batchIds);
      } catch (failure) {
        marked = false;
        markError = describeError(failure);
      }
      log("error", "forward batches not enqueued; the outbox sweep sends them", {
        batches: batchIds.length,
        batchIds: batchIds.join(","),
        error: describeError(error),
        firstError: describeError(firstError),
        markedNotEnqueued: marked,
        ...(markError !== undefined && { markError }),
      });
    },
  });
}

/**
 * Adds the stored outbox batches of one request to the isolate's buffer for `queue` and answers the promise of the
 * flush(es) that carry them: hand it to the request's waitUntil. Never rejects. Resolves at once for no ids.
 */
export function bufferBatchIds(queue: Queue<ForwardMessage>, db: D1Database, batchIds: readonly number[], windowMs: number): Promise<void> {
  if (batchIds.length === 0) return Promise.resolve();
  const binding = baseDatabase(db);
  let byDatabase = buffers.get(queue);
  if (!byDatabase) {
    byDatabase = new WeakMap();
    buffers.set(queue, byDatabase);
  }
  let buffer = byDatabase.get(binding);
  if (!buffer) {
    buffer = forwardBuffer(queue, storageDatabase(binding));
    byDatabase.set(binding, buffer);
  }
  const flushes = new Set(batchIds.map((id) => buffer.add(id, windowMs)));
  return Promise.all(flushes).then(() => undefined);
}
