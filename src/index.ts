/**
 * The Worker: HTTP (hooks, admin API, health), the forward and dead-letter queue consumers, and the cron.
 * Only this module knows every handler.
 */
import { app } from "./app";
import type { Env } from "./env";
import type { DeadLetterMessage, ForwardMessage } from "./queue/messages";
import { handleQueueBatch } from "./queue/consumer";
import { runScheduled } from "./jobs/scheduled";
import { log } from "./log";
import { meteredEnv, newUsage, usageFields } from "./storage/d1";

export default {
  // The HTTP app wraps D1 in its request context middleware (tests build the app without this module).
  fetch: app.fetch,
  // Queue batches and cron runs get D1 behind the storage edge too, and one line saying what D1 reported they cost.
  async queue(batch, env, ctx) {
    const usage = newUsage();
    try {
      await handleQueueBatch(batch, meteredEnv(env, usage), ctx);
    } finally {
      log("info", "queue batch", { queue: batch.queue, messages: batch.messages.length, ...usageFields(usage) });
    }
  },
  async scheduled(controller, env, ctx) {
    const usage = newUsage();
    try {
      await runScheduled(controller, meteredEnv(env, usage), ctx);
    } finally {
      log("info", "scheduled", { cron: controller.cron, ...usageFields(usage) });
    }
  },
} satisfies ExportedHandler<Env, ForwardMessage | DeadLetterMessage>;
