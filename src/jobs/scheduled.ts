/** Scheduled work (cron): the outbox sweep and retention are built on this entry point. */
import type { Env } from "../env";
import { log } from "../log";

export async function runScheduled(controller: ScheduledController, _env: Env, _ctx: ExecutionContext): Promise<void> {
  log("info", "scheduled run", { cron: controller.cron });
}
