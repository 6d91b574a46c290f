/**
 * The one module that puts work on the forward queue: stored batches (from the event route, through the isolate's
 * buffer ./enqueue-buffer.ts, and the sweeper), deliveries (retries after a failed attempt, resume, the sweeper),
 * and raised alerts. Queues' sendBatch takes at most 100 messages (and 256 KB; ours are at most ~1 KB each), so
 * larger sets are sent in several batches.
 */
import { MAX_BATCHES_PER_MESSAGE, type ForwardMessage } from "./messages";

export const SEND_BATCH_MAX_MESSAGES = 100;

/**
 * Enqueue `batchIds` as "batches" messages of up to MAX_BATCHES_PER_MESSAGE ids each (a repeated id once), up to
 * SEND_BATCH_MAX_MESSAGES messages per sendBatch. Resolves to the ids actually sent (all, or those before a
 * failure) and the failure.
 */
export async function enqueueBatches(queue: Queue<ForwardMessage>, batchIds: readonly number[]): Promise<{ sent: number[]; error?: unknown }> {
  const ids = [...new Set(batchIds)];
  const sent: number[] = [];
  const perSend = MAX_BATCHES_PER_MESSAGE * SEND_BATCH_MAX_MESSAGES;
  for (let i = 0; i < ids.length; i += perSend) {
    const slice = ids.slice(i, i + perSend);
    const messages: Array<MessageSendRequest<ForwardMessage>> = [];
    for (let j = 0; j < slice.length; j += MAX_BATCHES_PER_MESSAGE) {
      messages.push({ body: { kind: "batches", batchIds: slice.slice(j, j + MAX_BATCHES_PER_MESSAGE) } satisfies ForwardMessage });
    }
    try {
      await queue.sendBatch(messages);
    } catch (error) {
      return { sent, error };
    }
    sent.push(...slice);
  }
  return { sent };
}

/**
 * Enqueue one "delivery" message per (event, destination), each delayed by its own `delaySeconds` (a retry waits
 * until it is due). Throws when a send fails (the caller retries, or the sweeper finds the deliveries overdue).
 */
export async function enqueueDeliveries(
  queue: Queue<ForwardMessage>,
  deliveries: ReadonlyArray<{ uuid: string; destinationId: string; delaySeconds?: number }>,
): Promise<void> {
  for (let i = 0; i < deliveries.length; i += SEND_BATCH_MAX_MESSAGES) {
    const slice = deliveries.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    await queue.sendBatch(
      slice.map((d) => ({
        body: { kind: "delivery", uuid: d.uuid, destinationId: d.destinationId } satisfies ForwardMessage,
        ...(d.delaySeconds !== undefined && d.delaySeconds > 0 && { delaySeconds: Math.min(Math.round(d.delaySeconds), MAX_DELAY_SECONDS) }),
      })),
    );
  }
}

/** Queues' longest message delay (12 hours). */
export const MAX_DELAY_SECONDS = 43_200;

/**
 * Enqueue one "alert" message per raised alert (src/queue/alert-delivery.ts sends it), after `delaySeconds` when
 * given. Throws when a send fails.
 */
export async function enqueueAlerts(queue: Queue<ForwardMessage>, alertIds: readonly number[], delaySeconds?: number): Promise<void> {
  for (let i = 0; i < alertIds.length; i += SEND_BATCH_MAX_MESSAGES) {
    const slice = alertIds.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    await queue.sendBatch(slice.map((alertId) => ({ body: { kind: "alert", alertId } satisfies ForwardMessage, ...(delaySeconds !== undefined && delaySeconds > 0 && { delaySeconds }) })));
  }
}
