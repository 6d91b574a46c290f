/**
 * Scheduled work (cron, wrangler.toml [triggers]): the hourly RETENTION_CRON runs retention (./retention.ts); every
 * other cron (the five-minute one) runs the alert checks (./alerts.ts), the outbox sweep (./outbox-sweep.ts), the
 * replay job sweep (./replay-sweep.ts), then payload compaction (./compact-payloads.ts). Each runs even when one
 * before it failed; a failure of any still fails the invocation (after all ran), so it shows.
 */
import type { Env } from "../env";
import { runAlertChecks } from "./alerts";
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
  // The alert checks look at the backlog before the sweep repairs it: the sweep marks the deliveries it re-sends
  // due now, which would hide how late they were.
  const alerts = await runAlertChecks(env, controller.scheduledTime).then(() => undefined, failed);
  const sweep = await sweepOutbox(env, controller.scheduledTime).then(() => undefined, failed);
  const replays = await sweepReplayJobs(env, controller.scheduledTime).then(() => undefined, failed);
  await compactPayloads(env);
  if (alerts) throw alerts.error;
  if (sweep) throw sweep.error;
  if (replays) throw replays.error;
}
