/**
 * The replay job sweep (cron, with the outbox sweep): a running replay or redrive job whose next step was due more
 * than STALLED_GRACE_MS ago and is not being run has lost its step message (the send after the step's transaction
 * failed, or a local queue restarted); its step is sent again. Safe to repeat: a step message for a step already
 * done is dropped (src/queue/replay.ts).
 */
import type { Env } from "../env";
import { describeError, log } from "../log";
import type { ForwardMessage } from "../queue/messages";
import { takeStalledJobs } from "../storage/replay-jobs";

/** A job step overdue by more than this has lost its message. */
export const STALLED_GRACE_MS = 10 * 60_000;
/** Most jobs resumed per sweep. */
export const SWEEP_JOB_LIMIT = 50;

export async function sweepReplayJobs(env: Env, now: number): Promise<number> {
  try {
    const stalled = await takeStalledJobs(env.DB, now, STALLED_GRACE_MS, SWEEP_JOB_LIMIT);
    if (stalled.length > 0) {
      await env.FORWARD_QUEUE.sendBatch(stalled.map((j) => ({ body: { kind: "replay", jobId: j.id, step: j.step } satisfies ForwardMessage })));
      log("warn", "replay sweep", { resumed: stalled.length, jobIds: stalled.map((j) => String(j.id)) });
    }
    return stalled.length;
  } catch (error) {
    // Marked due now: the next sweep (or the next run of this one) sends them again.
    log("error", "replay sweep failed", { error: describeError(error) });
    throw error;
  }
}
