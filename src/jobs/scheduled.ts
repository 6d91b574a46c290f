/**
 * Scheduled work (cron, wrangler.toml [triggers]): the hourly RETENTION_CRON runs retention (./retention.ts); every
 * other cron (the five-minute one) runs the outbox sweep (./outbox-sweep.ts).
 */
import type { Env } from "../env";
import { sweepOutbox } from "./outbox-sweep";
import { RETENTION_CRON, runRetention } from "./retention";

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  if (controller.cron === RETENTION_CRON) {
    await runRetention(env, controller.scheduledTime);
    return;
  }
  await sweepOutbox(env, controller.scheduledTime);
}
