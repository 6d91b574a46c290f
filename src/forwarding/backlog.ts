/**
 * When is forwarding behind? The one rule /healthz (status "degraded") and the alert cron (a `backlog.late`
 * alert) share, so the two never disagree.
 *
 * The backlog has two parts, each judged by its oldest item:
 * - the outbox: batches stored but not fanned out yet. Fan-out normally follows the ingest within seconds;
 * - deliveries past their scheduled attempt (pending or failed, `next_attempt_at` in the past). A retry is sent
 *   when it is due; one that stays overdue has lost its queue message or the queue is not consumed.
 * Deliveries that wait for a paused or disabled destination are not late: they wait on purpose, and a disabled
 * destination is reported (and alerted) on its own.
 *
 * Pure: `now` is an argument.
 */

/** The oldest item of each part of the backlog (epoch ms), or null when that part is empty. */
export interface BacklogOldest {
  /** created_at of the oldest batch in the outbox. */
  outboxOldestAt: number | null;
  /** next_attempt_at of the delivery longest past its scheduled attempt. */
  overdueOldestAt: number | null;
}

export interface BacklogLateness {
  /** Age of the oldest outbox batch, ms (null: the outbox is empty). */
  outboxAgeMs: number | null;
  /** How long the most overdue delivery is past its attempt, ms (null: none is overdue). */
  overdueAgeMs: number | null;
  /** Either part is older than the threshold. */
  late: boolean;
}

export function backlogLateness(oldest: BacklogOldest, now: number, lateAfterMs: number): BacklogLateness {
  const age = (at: number | null) => (at === null ? null : Math.max(0, now - at));
  const outboxAgeMs = age(oldest.outboxOldestAt);
  const overdueAgeMs = age(oldest.overdueOldestAt);
  const late = (outboxAgeMs ?? 0) > lateAfterMs || (overdueAgeMs ?? 0) > lateAfterMs;
  return { outboxAgeMs, overdueAgeMs, late };
}
