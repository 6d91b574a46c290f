/**
 * Scheduled work (cron, wrangler.toml [triggers]): the outbox sweep, then payload compaction. Compaction runs even
 * when the sweep failed; a failure of either still fails the invocation (after both ran), so it shows.
 */
import type { Env } from "../env";
import { compactPayloads } from "./compact-payloads";
import { sweepOutbox } from "./outbox-sweep";

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const sweep = await sweepOutbox(env, controller.scheduledTime).then(() => undefined, (error: unknown) => ({ error }));
  await compactPayloads(env);
  if (sweep) throw sweep.error;
}
