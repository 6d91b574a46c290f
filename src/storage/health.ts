/**
 * What /healthz and the alert cron read about forwarding: the oldest item of each part of the backlog, bounded
 * counts, and dead letters of the last hour. Statements only, so each caller batches them with its own reads into
 * one D1 round trip.
 *
 * Each is bounded by an index, and what it costs in D1 rows read is written beside it (each index entry or table
 * row visited is a row read, as D1 bills them: https://developers.cloudflare.com/d1/platform/pricing/). Counts stop
 * at `limit`: a count equal to it means at least that many. How many is exact below it; past it, the order of
 * magnitude is what an operator needs from a health check, and GET /admin/api/stats/deliveries counts exactly.
 */
import { firstRow } from "./d1";
import type { BacklogOldest } from "../forwarding/backlog";

/**
 * Statement: the oldest outbox batch's arrival (batch ids grow with arrival, so it is the smallest key: 1 row
 * read) and the delivery longest past its scheduled attempt (the `deliveries_due` partial index in order: 1 entry
 * and its row). Served to every caller of /healthz, anonymous ones included: a few rows whatever the backlog.
 */
export function backlogOldestStatement(db: D1Database, now: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT (SELECT created_at FROM forward_outbox ORDER BY batch_id LIMIT 1) AS outboxOldestAt,
              (SELECT next_attempt_at FROM deliveries WHERE state IN ('pending', 'failed') AND next_attempt_at <= ?1
               ORDER BY next_attempt_at LIMIT 1) AS overdueOldestAt`,
    )
    .bind(now);
}

export function readBacklogOldest(result: D1Result<unknown> | undefined): BacklogOldest {
  const row = firstRow<BacklogOldest>(result);
  return { outboxOldestAt: row?.outboxOldestAt ?? null, overdueOldestAt: row?.overdueOldestAt ?? null };
}

export interface BacklogCounts {
  /** Batches in the outbox (stored, not fanned out yet). */
  outboxBatches: number;
  /** Deliveries pending or failed: an attempt to make, or a retry scheduled. */
  retrying: number;
  /** Of those, the ones past their scheduled attempt. */
  overdue: number;
  /** Deliveries waiting for a paused or disabled destination. */
  waiting: number;
}

/**
 * Statement: the backlog's counts, each at most `limit`. Rows read, each count n: the outbox by primary key, n;
 * retrying, through `deliveries_destination_state` per destination and state (CROSS JOIN keeps destinations the
 * outer loop, so only entries in those states are visited), the destinations plus n; overdue, through
 * `deliveries_due` in range, 2n (the entry and its row); waiting, like retrying. Delivered and dead deliveries —
 * the history, the bulk of the table — are never visited.
 */
export function backlogCountsStatement(db: D1Database, now: number, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT
         (SELECT count(*) FROM (SELECT 1 FROM forward_outbox LIMIT ?1)) AS outboxBatches,
         (SELECT count(*) FROM (SELECT 1 FROM destinations dst CROSS JOIN deliveries d
                                ON d.destination_id = dst.id AND d.state IN ('pending', 'failed') LIMIT ?1)) AS retrying,
         (SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE state IN ('pending', 'failed') AND next_attempt_at <= ?2
                                LIMIT ?1)) AS overdue,
         (SELECT count(*) FROM (SELECT 1 FROM destinations dst CROSS JOIN deliveries d
                                ON d.destination_id = dst.id AND d.state = 'waiting' LIMIT ?1)) AS waiting`,
    )
    .bind(limit, now);
}

export function readBacklogCounts(result: D1Result<unknown> | undefined): BacklogCounts {
  const row = firstRow<BacklogCounts>(result);
  return { outboxBatches: row?.outboxBatches ?? 0, retrying: row?.retrying ?? 0, overdue: row?.overdue ?? 0, waiting: row?.waiting ?? 0 };
}

/**
 * Statement: dead letters recorded since `since`, at most `limit`, per destination and for events that never
 * reached fan-out (`destination_id = ''`), through `dead_letters_destination (destination_id, recorded_at, …)`
 * (migration 0006): one range per destination and one for the event-level letters, rows read = destinations + 1 + n
 * (23 for the whole admin answer in a test with 3,000 older letters). Read for the admin token's answer only.
 */
export function deadLettersSinceStatement(db: D1Database, since: number, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT count(*) AS n FROM (SELECT 1 FROM dead_letters
                                  WHERE destination_id IN (SELECT id FROM destinations UNION ALL SELECT '')
                                    AND recorded_at >= ?1 LIMIT ?2)`,
    )
    .bind(since, limit);
}
