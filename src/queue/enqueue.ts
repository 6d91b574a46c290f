/**
 * The one module that puts work on the forward queue: stored events (from the event route and the sweeper) and
 * deliveries (from fan-out, resume and the sweeper). Queues' sendBatch takes at most 100 messages (and 256 KB; ours
 * are ~60 bytes each), so larger sets are sent in several batches.
 */
import type { Env } from "../env";
import { markEnqueuedRows, type StoredEvent } from "../storage/events";
import type { ForwardMessage } from "./messages";

export const SEND_BATCH_MAX_MESSAGES = 100;

/** Enqueue one "event" message per uuid. Resolves to the uuids actually sent (all, or those before a failure). */
export async function enqueueEvents(
  queue: Queue<ForwardMessage>,
  uuids: readonly string[],
): Promise<{ sent: string[]; error?: unknown }> {
  const sent: string[] = [];
  for (let i = 0; i < uuids.length; i += SEND_BATCH_MAX_MESSAGES) {
    const slice = uuids.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    try {
      await queue.sendBatch(slice.map((uuid) => ({ body: { kind: "event", uuid } satisfies ForwardMessage })));
    } catch (error) {
      return { sent, error };
    }
    sent.push(...slice);
  }
  return { sent };
}

/**
 * Hand stored events to the forward queue, then record that they were (forward_state 'enqueued'): the one place
 * both happen, for the event route and the sweeper. `whenMarked` receives the marking: the sweeper awaits it; the
 * event route hands it to waitUntil, so Okta's answer does not wait for a second D1 write (if marking is lost, the
 * sweeper enqueues the events again, and forwarding is idempotent per event and destination).
 */
export async function enqueueStoredEvents(
  env: Env,
  events: readonly StoredEvent[],
  now: number,
  whenMarked: (marking: Promise<void>) => void | Promise<void> = (marking) => marking,
): Promise<{ sent: StoredEvent[]; error?: unknown }> {
  const { sent, error } = await enqueueEvents(env.FORWARD_QUEUE, events.map((e) => e.uuid));
  const sentEvents = events.slice(0, sent.length);
  if (sentEvents.length > 0) {
    await whenMarked(markEnqueuedRows(env.DB, sentEvents.map((e) => e.rowid), now));
  }
  return { sent: sentEvents, error };
}

/** Enqueue one "delivery" message per (event, destination). Throws when a send fails (the caller retries). */
export async function enqueueDeliveries(queue: Queue<ForwardMessage>, deliveries: ReadonlyArray<{ uuid: string; destinationId: string }>): Promise<void> {
  for (let i = 0; i < deliveries.length; i += SEND_BATCH_MAX_MESSAGES) {
    const slice = deliveries.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    await queue.sendBatch(slice.map((d) => ({ body: { kind: "delivery", uuid: d.uuid, destinationId: d.destinationId } satisfies ForwardMessage })));
  }
}
