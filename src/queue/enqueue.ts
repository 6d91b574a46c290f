/**
 * The one module that puts work on the forward queue: stored batches (from the event route and the sweeper) and
 * deliveries (retries after a failed attempt, resume, the sweeper), and raised alerts. Queues' sendBatch takes at most 100 messages
 * (and 256 KB; ours are ~60 bytes each), so larger sets are sent in several batches.
 */
import type { ForwardMessage } from "./messages";

export const SEND_BATCH_MAX_MESSAGES = 100;

/** Enqueue one "batch" message per id. Resolves to the ids actually sent (all, or those before a failure). */
export async function enqueueBatches(queue: Queue<ForwardMessage>, batchIds: readonly number[]): Promise<{ sent: number[]; error?: unknown }> {
  const sent: number[] = [];
  for (let i = 0; i < batchIds.length; i += SEND_BATCH_MAX_MESSAGES) {
    const slice = batchIds.slice(i, i + SEND_BATCH_MAX_MESSAGES);
    try {
      await queue.sendBatch(slice.map((batchId) => ({ body: { kind: "batch", batchId } satisfies ForwardMessage })));
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
