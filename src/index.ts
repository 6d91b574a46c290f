/**
 * The Worker: HTTP (hooks, admin API, health), the forward and dead-letter queue consumers, and the cron.
 * Only this module knows every handler.
 */
import { app } from "./app";
import type { Env } from "./env";
import type { DeadLetterMessage, ForwardMessage } from "./queue/messages";
import { handleQueueBatch } from "./queue/consumer";
import { runScheduled } from "./jobs/scheduled";
import { withStorageEdge } from "./storage/d1";

export default {
  // The HTTP app wraps D1 in its request context middleware (tests build the app without this module).
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueueBatch(batch, withStorageEdge(env), ctx),
  scheduled: (controller, env, ctx) => runScheduled(controller, withStorageEdge(env), ctx),
} satisfies ExportedHandler<Env, ForwardMessage | DeadLetterMessage>;
