/**
 * Scheduled work (cron, wrangler.toml [triggers]): the hourly RETENTION_CRON runs retention (./retention.ts); every
 * other cron (the five-minute one) runs the outbox sweep (./outbox-sweep.ts), the replay job sweep
 * (./replay-sweep.ts), then payload compaction (./compact-payloads.ts). Compaction runs even when a sweep failed; a
 * failure of any still fails the invocation (after all ran), so it shows.
 */
import type { Env } from "../env";
import { compactPayloads } from "./compact-payloads";
import { sweepOutbox } from "./outbox-sweep";
import { sweepReplayJobs } from "./replay-sweep";
import { RETENTION_CRON, runRetention } from "./retention";

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  if (controller.cron === RETENTION_CRON) {
    await runRetention(env, controller.scheduledTime);
    return;
  }
  const failed = (error: unknown) => ({ error });
  const sweep = await sweepOutbox(env, controller.scheduledTime).then(() => undefined, failed);
  const replays = await sweepReplayJobs(env, controller.scheduledTime).then(() => undefined, failed);
  await compactPayloads(env);
  if (sweep) throw sweep.error;
  if (replays) throw replays.error;
}
