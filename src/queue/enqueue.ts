/**
 * Handing stored events to the forward queue. Queues' sendBatch takes at most 100 messages (and 256 KB; ours are
 * ~60 bytes each), so larger deliveries are sent in several batches.
 */
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
