/**
 * The outbox sweep (PRODUCT 2B: "a failed queue send loses nothing"): re-enqueue
 * - events stored but never handed to the forward queue (forward_state 'pending' for over a minute: the send
 *   failed, or the request died between the D1 write and the send), and
 * - events handed to the queue more than half an hour ago whose fan-out never happened (their message was lost),
 * - waiting deliveries of destinations that are active (a resume that failed, or raced with a pause), and
 * - deliveries still to do whose time came more than ten minutes ago (their queue message was lost, e.g. local
 *   queues are in memory, or a consumer crashed between the D1 write and the retry call),
 * each in bounded batches, oldest first. Re-enqueueing is safe: fan-out is idempotent per (event, destination),
 * and a delivery is claimed in D1 before it is attempted.
 *
 * A failing sweep logs at error level and rethrows, so the cron invocation fails visibly (thmenu's retry cron
 * failed silently for 16 months; PEERS §1.6).
 */
import type { Env } from "../env";
import { describeError, log } from "../log";
import { enqueueEvents } from "../queue/enqueue";
import { enqueueDeliveries } from "../queue/fan-out";
import { resumeStep } from "../queue/resume";
import { takeOverdueDeliveries } from "../storage/deliveries";
import { listOutboxEvents, listUnfannedEvents, markEnqueued, touchEnqueued } from "../storage/events";

/** Events younger than this are left to the request that stored them. */
export const OUTBOX_MIN_AGE_MS = 60_000;
/**
 * Enqueued events not fanned out after this long have lost their message. Generous, because a long queue backlog
 * delays fan-out legitimately; re-enqueueing early would only add work (fan-out is idempotent).
 */
export const UNFANNED_GRACE_MS = 30 * 60_000;
/** Deliveries overdue by more than this have lost their queue message. */
export const OVERDUE_GRACE_MS = 10 * 60_000;
/** Most events and deliveries re-enqueued per sweep, each (bounded work per cron run; the next run continues). */
export const SWEEP_BATCH_LIMIT = 500;

export interface SweepResult {
  /** Events re-enqueued: never enqueued, or enqueued but never fanned out. */
  events: number;
  deliveries: number;
}

export async function sweepOutbox(env: Env, now: number): Promise<SweepResult> {
  try {
    const uuids = await listOutboxEvents(env.DB, now, OUTBOX_MIN_AGE_MS, SWEEP_BATCH_LIMIT);
    const { sent, error } = await enqueueEvents(env.FORWARD_QUEUE, uuids);
    if (sent.length > 0) await markEnqueued(env.DB, sent, now);
    if (error !== undefined) throw error;

    const unfanned = await listUnfannedEvents(env.DB, now, UNFANNED_GRACE_MS, SWEEP_BATCH_LIMIT);
    const again = await enqueueEvents(env.FORWARD_QUEUE, unfanned);
    if (again.sent.length > 0) await touchEnqueued(env.DB, again.sent, now);
    if (again.error !== undefined) throw again.error;

    // Waiting deliveries of destinations that are active (again): a resume that failed or raced.
    const resumed = await resumeStep(env, null, now);

    const overdue = await takeOverdueDeliveries(env.DB, now, OVERDUE_GRACE_MS, SWEEP_BATCH_LIMIT);
    await enqueueDeliveries(env.FORWARD_QUEUE, overdue.map((d) => ({ uuid: d.eventUuid, destinationId: d.destinationId })));

    const result = { events: sent.length + again.sent.length, deliveries: overdue.length + resumed.resumed };
    log(result.events + result.deliveries > 0 ? "warn" : "info", "outbox sweep", {
      events: result.events,
      deliveries: result.deliveries,
      lostEventMessages: again.sent.length,
      resumed: resumed.resumed,
      more: uuids.length === SWEEP_BATCH_LIMIT || unfanned.length === SWEEP_BATCH_LIMIT || overdue.length === SWEEP_BATCH_LIMIT,
    });
    return result;
  } catch (error) {
    log("error", "outbox sweep failed", { error: describeError(error) });
    throw error;
  }
}
