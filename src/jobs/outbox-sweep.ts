/**
 * The outbox sweep (a failed queue send loses nothing; docs/storage.md "The outbox"): re-enqueue, as "batches"
 * messages of up to 100 batches (src/queue/enqueue.ts),
 * - batches stored but never handed to the forward queue (the producer buffer's send failed twice,
 *   src/queue/enqueue-buffer.ts) once they are a minute old, and batches handed to it over half an hour ago that
 *   are still in the outbox and not being fanned out (their message was lost, or the isolate died before its buffer
 *   was sent);
 * - waiting deliveries of destinations that are active (a resume that failed, or raced with a pause), and
 * - deliveries still to do whose time came more than ten minutes ago (their queue message was lost, e.g. local
 *   queues are in memory, or a consumer crashed between the D1 write and the send of the retry message),
 * each in bounded batches, oldest first. Re-enqueueing is safe: a batch is leased before it is fanned out and leaves
 * the outbox in the transaction that records its outcomes, and a delivery is claimed in D1 before it is attempted.
 *
 * A failing sweep logs at error level and rethrows, so the cron invocation fails visibly: a retry job that fails
 * silently is how events get lost unnoticed.
 */
import type { Env } from "../env";
import { describeError, log } from "../log";
import { enqueueBatches, enqueueDeliveries } from "../queue/enqueue";
import { resumeStep } from "../queue/resume";
import { takeOverdueDeliveries } from "../storage/deliveries";
import { markOutboxNotEnqueued, takeOutboxBatches } from "../storage/events";

/** Batches younger than this are left to the request that stored them. */
export const OUTBOX_MIN_AGE_MS = 60_000;
/**
 * Enqueued batches still in the outbox after this long have lost their message. Generous, because a long queue
 * backlog delays fan-out legitimately; re-enqueueing early would only add work (a batch is fanned out once).
 */
export const UNFANNED_GRACE_MS = 30 * 60_000;
/** Deliveries overdue by more than this have lost their queue message. */
export const OVERDUE_GRACE_MS = 10 * 60_000;
/** Most batches and deliveries re-enqueued per round of a sweep, each (one UPDATE … LIMIT and a few sendBatch calls). */
export const SWEEP_BATCH_LIMIT = 500;
/**
 * Rounds per sweep while a round comes back full: a run recovers up to 5,000 batches and 5,000 deliveries (e.g. all
 * a crash left behind) instead of 500 every five minutes; the work per cron run stays bounded, the next run continues.
 */
export const SWEEP_MAX_ROUNDS = 10;

export interface SweepLimits {
  /** Rows per round (SWEEP_BATCH_LIMIT). */
  batchLimit: number;
  /** Rounds per run (SWEEP_MAX_ROUNDS). */
  maxRounds: number;
}

export interface SweepResult {
  /** Batches re-enqueued: never enqueued, or enqueued and never fanned out. */
  batches: number;
  deliveries: number;
}

export async function sweepOutbox(env: Env, now: number, limits: SweepLimits = { batchLimit: SWEEP_BATCH_LIMIT, maxRounds: SWEEP_MAX_ROUNDS }): Promise<SweepResult> {
  try {
    let batchCount = 0;
    let batchesFull = true;
    for (let round = 0; round < limits.maxRounds && batchesFull; round++) {
      const batches = await takeOutboxBatches(env.DB, now, OUTBOX_MIN_AGE_MS, UNFANNED_GRACE_MS, limits.batchLimit);
      const { sent, error } = await enqueueBatches(env.FORWARD_QUEUE, batches);
      if (error !== undefined) {
        // Taking them marked them enqueued: put the unsent ones back as never enqueued, so the next run retries
        // them instead of waiting out the lost-message grace. The send's failure is what this run reports.
        const unsent = batches.filter((id) => !sent.includes(id));
        await markOutboxNotEnqueued(env.DB, unsent).catch(() => undefined);
        throw error;
      }
      batchCount += sent.length;
      batchesFull = batches.length === limits.batchLimit;
    }

    // Waiting deliveries of destinations that are active (again): a resume that failed or raced.
    const resumed = await resumeStep(env, null, now);

    let overdueCount = 0;
    let overdueFull = true;
    for (let round = 0; round < limits.maxRounds && overdueFull; round++) {
      const overdue = await takeOverdueDeliveries(env.DB, now, OVERDUE_GRACE_MS, limits.batchLimit);
      await enqueueDeliveries(env.FORWARD_QUEUE, overdue.map((d) => ({ uuid: d.eventUuid, destinationId: d.destinationId })));
      overdueCount += overdue.length;
      overdueFull = overdue.length === limits.batchLimit;
    }

    const result = { batches: batchCount, deliveries: overdueCount + resumed.resumed };
    log(result.batches + result.deliveries > 0 ? "warn" : "info", "outbox sweep", {
      batches: result.batches,
      deliveries: result.deliveries,
      resumed: resumed.resumed,
      more: batchesFull || overdueFull,
    });
    return result;
  } catch (error) {
    log("error", "outbox sweep failed", { error: describeError(error) });
    throw error;
  }
}
