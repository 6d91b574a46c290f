/**
 * The events-received rollup (table event_counts, migrations/0007_stats_retention.sql): how many events were newly
 * stored per UTC hour of arrival and event type. Counting them at read time would scan every event of the range
 * (an org at Okta's maximum stores 400,000 a day); the rollup is read in (hours × types) rows.
 *
 * Written inside the ingest transaction (storeDelivery in ./events.ts includes eventCountsStatement in its batch,
 * right after the event inserts): D1 runs one transaction at a time, so the events this delivery stored are the
 * newest rows of `events` that carry the next batch id — the same reasoning the batch row's insert relies on. A
 * duplicate is not inserted (ON CONFLICT DO NOTHING), so it carries no such batch id and is not counted; a delivery
 * made only of duplicates counts nothing. The statement returns no rows, so it adds none to the inserted events
 * storeDelivery reads from the results of its insert statements.
 *
 * Cost per delivery: it reads the delivery's newest rows (at most its event count) and writes one row per distinct
 * (hour, type) among the new events — an upsert of a WITHOUT ROWID row is one row written, no index entry.
 */
import { allRows } from "./d1";

export const HOUR_MS = 3_600_000;

const UPSERT_EVENT_COUNTS = `
INSERT INTO event_counts (hour, event_type, count)
SELECT ?2, event_type, count(*)
FROM (SELECT batch_id, event_type FROM events ORDER BY id DESC LIMIT ?1)
WHERE batch_id = (SELECT coalesce(max(id), 0) + 1 FROM event_batches)
GROUP BY event_type
ON CONFLICT (hour, event_type) DO UPDATE SET count = count + excluded.count`;

/**
 * The rollup's share of one delivery's ingest transaction. Must run after the delivery's event inserts and before
 * its event_batches row is inserted (until then, "the next batch id" is the one its events carry).
 */
export function eventCountsStatement(db: D1Database, eventCount: number, receivedAt: number): D1PreparedStatement {
  return db.prepare(UPSERT_EVENT_COUNTS).bind(eventCount, Math.floor(receivedAt / HOUR_MS));
}

export interface EventCountRow {
  /** Start of the bucket: epoch hour (hourly) or epoch day (daily), UTC. */
  bucket: number;
  event_type: string;
  count: number;
}

export type EventCountBucket = "hour" | "day";

/**
 * Counts per bucket and type for hours [fromHour, toHour), optionally of one type (`exact`) or one prefix (`prefix`,
 * e.g. "user.session." for `user.session.*`). Served by the primary key (hour, event_type): it reads every rollup
 * row of the range (hours × types seen) and nothing else. Daily buckets are sums of 24 hourly rows (UTC days).
 */
export function eventCountsQuery(
  db: D1Database,
  range: { fromHour: number; toHour: number; bucket: EventCountBucket; exact?: string; prefix?: string },
): D1PreparedStatement {
  // The divisor is written into the SQL, not bound: D1 binds a JavaScript number as REAL, and hour / 24.0 is no day.
  const bucket = range.bucket === "day" ? "hour / 24" : "hour";
  return db
    .prepare(
      `SELECT ${bucket} AS bucket, event_type, sum(count) AS count FROM event_counts
       WHERE hour >= ?1 AND hour < ?2
         AND (?3 IS NULL OR event_type = ?3)
         AND (?4 IS NULL OR substr(event_type, 1, length(?4)) = ?4)
       GROUP BY ${bucket}, event_type
       ORDER BY bucket, event_type`,
    )
    .bind(range.fromHour, range.toHour, range.exact ?? null, range.prefix ?? null);
}

export async function eventCounts(db: D1Database, range: Parameters<typeof eventCountsQuery>[1]): Promise<EventCountRow[]> {
  return allRows<EventCountRow>(await eventCountsQuery(db, range).all());
}
