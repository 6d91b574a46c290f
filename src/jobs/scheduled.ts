/** Scheduled work (cron, wrangler.toml [triggers]): the outbox sweep; retention joins it later. */
import type { Env } from "../env";
import { sweepOutbox } from "./outbox-sweep";

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  await sweepOutbox(env, controller.scheduledTime);
}
