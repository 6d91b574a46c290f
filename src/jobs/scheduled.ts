/** Scheduled work (cron, wrangler.toml [triggers]): the outbox sweep and the replay job sweep; retention joins it later. */
import type { Env } from "../env";
import { sweepOutbox } from "./outbox-sweep";
import { sweepReplayJobs } from "./replay-sweep";

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  await sweepOutbox(env, controller.scheduledTime);
  await sweepReplayJobs(env, controller.scheduledTime);
}
