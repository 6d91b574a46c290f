/**
 * The Worker: HTTP (hooks, admin API, health), the forward and dead-letter queue consumers, and the cron.
 * Only this module knows every handler.
 */
import { app } from "./app";
import type { Env } from "./env";
import type { DeadLetterMessage, ForwardMessage } from "./queue/messages";
import { handleQueueBatch } from "./queue/consumer";
import { runScheduled } from "./jobs/scheduled";

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
  scheduled: runScheduled,
} satisfies ExportedHandler<Env, ForwardMessage | DeadLetterMessage>;
