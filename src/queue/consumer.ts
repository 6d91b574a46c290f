/**
 * Queue consumers. Forwarding (fan-out to destinations, signing, retries) is built on this entry point; until then
 * every message is kept: retried an hour later, never acknowledged unprocessed.
 */
import type { Env } from "../env";
import { log } from "../log";
import type { ForwardMessage } from "./messages";

export async function handleQueueBatch(batch: MessageBatch<ForwardMessage>, _env: Env, _ctx: ExecutionContext): Promise<void> {
  log("warn", "forwarding not available yet; messages kept for later", { queue: batch.queue, count: batch.messages.length });
  batch.retryAll({ delaySeconds: 3600 });
}
