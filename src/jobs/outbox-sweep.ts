/**
 * The outbox sweep (a failed queue send loses nothing; docs/storage.md "The outbox"): re-enqueue
 * - events stored but never handed to the forward queue (forward_state 'pending' for over a minute: the send
 *   failed, or the request died between the D1 write and the send), and
 * - events handed to the queue more than half an hour ago whose fan-out never happened (their message was lost),
 * - waiting deliveries of destinations that are active (a resume that failed, or raced with a pause), and
 * - deliveries still to do whose time came more than ten minutes ago (their queue message was lost, e.g. local
 *   queues are in memory, or a consumer crashed between the D1 write and the retry call),
 * each in bounded batches, oldest first. Re-enqueueing is safe: fan-out is idempotent per (event, destination),
 * and a delivery is claimed in D1 before it is attempted.
 *
 * Rows the sweeper cannot progress never hold it up: it updates rows by rowid (so every row it enqueues leaves the
 * outbox), and an event whose uuid is not a valid identifier (only possible for rows stored before identifiers were
 * validated) can never be forwarded, so it is set aside with an event-level dead letter, logged at error level,
 * instead of being re-enqueued by every sweep ahead of the events behind it.
 *
 * A failing sweep logs at error level and rethrows, so the cron invocation fails visibly: a retry job that fails
 * silently is how events get lost unnoticed.
 */
import type { Env } from "../env";
import { describeError, log } from "../log";
import { isValidEventId } from "../okta/event-hook";
import { enqueueDeliveries, enqueueEvents, enqueueStoredEvents } from "../queue/enqueue";
import { resumeStep } from "../queue/resume";
import { takeOverdueDeliveries } from "../storage/deliveries";
import {
  listOutboxEvents,
  listUnfannedEvents,
  setAsideUnforwardable,
  touchEnqueuedRows,
  type StoredEvent,
} from "../storage/events";

export const UNFORWARDABLE_REASON = "the event's uuid is not a valid identifier (stored before identifiers were validated): it cannot be forwarded";

/** Sets aside the rows that can never be forwarded; answers the ones to enqueue. */
async function forwardable(env: Env, rows: readonly StoredEvent[], now: number): Promise<{ rows: StoredEvent[]; setAside: number }> {
  const bad = rows.filter((r) => !isValidEventId(r.uuid));
  if (bad.length === 0) return { rows: [...rows], setAside: 0 };
  await setAsideUnforwardable(env.DB, bad.map((r) => r.rowid), UNFORWARDABLE_REASON, now);
  log("error", "outbox sweep: events that cannot be forwarded were set aside as dead letters", { count: bad.length });
  return { rows: rows.filter((r) => isValidEventId(r.uuid)), setAside: bad.length };
}

/** Enqueue `rows`; answers the rows sent (all, or those before a failure) and the error. */
async function enqueueRows(env: Env, rows: readonly StoredEvent[]): Promise<{ sent: StoredEvent[]; error?: unknown }> {
  const { sent, error } = await enqueueEvents(env.FORWARD_QUEUE, rows.map((r) => r.uuid));
  return { sent: rows.slice(0, sent.length), error };
}

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
  /** Events that can never be forwarded, set aside with a dead letter. */
  setAside: number;
}

export async function sweepOutbox(env: Env, now: number): Promise<SweepResult> {
  try {
    const outbox = await listOutboxEvents(env.DB, now, OUTBOX_MIN_AGE_MS, SWEEP_BATCH_LIMIT);
    const pending = await forwardable(env, outbox, now);
    const { sent, error } = await enqueueStoredEvents(env, pending.rows, now);
    if (error !== undefined) throw error;

    const unfanned = await listUnfannedEvents(env.DB, now, UNFANNED_GRACE_MS, SWEEP_BATCH_LIMIT);
    const lost = await forwardable(env, unfanned, now);
    const again = await enqueueRows(env, lost.rows);
    await touchEnqueuedRows(env.DB, again.sent.map((r) => r.rowid), now);
    if (again.error !== undefined) throw again.error;

    // Waiting deliveries of destinations that are active (again): a resume that failed or raced.
    const resumed = await resumeStep(env, null, now);

    const overdue = await takeOverdueDeliveries(env.DB, now, OVERDUE_GRACE_MS, SWEEP_BATCH_LIMIT);
    await enqueueDeliveries(env.FORWARD_QUEUE, overdue.map((d) => ({ uuid: d.eventUuid, destinationId: d.destinationId })));

    const setAside = pending.setAside + lost.setAside;
    const result = { events: sent.length + again.sent.length, deliveries: overdue.length + resumed.resumed, setAside };
    log(result.events + result.deliveries + setAside > 0 ? "warn" : "info", "outbox sweep", {
      events: result.events,
      deliveries: result.deliveries,
      lostEventMessages: again.sent.length,
      resumed: resumed.resumed,
      setAside,
      more: outbox.length === SWEEP_BATCH_LIMIT || unfanned.length === SWEEP_BATCH_LIMIT || overdue.length === SWEEP_BATCH_LIMIT,
    });
    return result;
  } catch (error) {
    log("error", "outbox sweep failed", { error: describeError(error) });
    throw error;
  }
}
