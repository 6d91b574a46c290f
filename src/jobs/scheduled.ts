/**
 * Scheduled work (cron, wrangler.toml [triggers]): the hourly RETENTION_CRON runs retention (./retention.ts); every
 * other cron (the five-minute one) runs the outbox sweep (./outbox-sweep.ts), then payload compaction
 * (./compact-payloads.ts). Compaction runs even when the sweep failed; a failure of either still fails the
 * invocation (after both ran), so it shows.
 */
import type { Env } from "../env";
import { compactPayloads } from "./compact-payloads";
import { sweepOutbox } from "./outbox-sweep";
import { RETENTION_CRON, runRetention } from "./retention";

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  if (controller.cron === RETENTION_CRON) {
    await runRetention(env, controller.scheduledTime);
    return;
  }
  const sweep = await sweepOutbox(env, controller.scheduledTime).then(() => undefined, (error: unknown) => ({ error }));
  await compactPayloads(env);
  if (sweep) throw sweep.error;
}
