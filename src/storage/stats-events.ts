/**
 * The events-received rollup (table event_counts, migrations/0007_stats_retention.sql): how many events were newly
 * stored per UTC hour of arrival and event type, one row per hour holding a JSON object {type: count}. Counting at
 * read time would scan every event of the range (an org at Okta's maximum stores 400,000 a day); the rollup is read
 * in one row per hour plus its types.
 *
 * Written inside the ingest transaction (storeDelivery in ./events.ts includes eventCountsStatement in its batch,
 * right after the batch row's insert): D1 runs one transaction at a time, so the newest batch row, when it carries
 * the group's random token, lists exactly the events this delivery stored. A duplicate is not inserted (ON CONFLICT
 * DO NOTHING), so it is not in the list and is not counted; a delivery made only of duplicates inserts no batch row
 * and counts nothing. The statement returns no rows, so it adds none to the inserted events storeDelivery reads from
 * the results of its insert statements.
 *
 * Cost per delivery: it reads the batch's events (one lookup each) and the hour's row, and writes
 * one row — however many types the delivery mixes (a row per (hour, type) would write one per type: 20 distinct
 * types in a 20-event delivery would add a row written per event). The hour's JSON is merged in SQL: the counts of
 * both objects summed per type.
 */
import { BATCH_EVENTS } from "./batch-events";
import { allRows } from "./d1";

export const HOUR_MS = 3_600_000;

const UPSERT_EVENT_COUNTS = `
INSERT INTO event_counts (hour, counts)
SELECT ?2, json_group_object(event_type, n)
FROM (SELECT e.event_type, count(*) AS n
      FROM event_batches b CROSS JOIN ${BATCH_EVENTS}
      WHERE b.id = (SELECT max(id) FROM event_batches) AND b.ingest_token = ?1
      GROUP BY e.event_type)
WHERE true
HAVING count(*) > 0
ON CONFLICT (hour) DO UPDATE SET counts = (
  SELECT json_group_object(key, total)
  FROM (SELECT key, sum(value) AS total
        FROM (SELECT key, value FROM json_each(event_counts.counts)
              UNION ALL SELECT key, value FROM json_each(excluded.counts))
        GROUP BY key))`;

/**
 * The rollup's share of one delivery's ingest transaction. Must run after the group's batch row is inserted (the
 * newest batch, carrying the group's random `ingestToken`): it counts the events that row lists.
 */
export function eventCountsStatement(db: D1Database, ingestToken: number, receivedAt: number): D1PreparedStatement {
  return db.prepare(UPSERT_EVENT_COUNTS).bind(ingestToken, Math.floor(receivedAt / HOUR_MS));
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
 * e.g. "user.session." for `user.session.*`). Served by the primary key (hour): it reads the range's hour rows and
 * their JSON members (D1 counts each as a row read), and nothing else. Daily buckets sum 24 hours (UTC days).
 */
export function eventCountsQuery(
  db: D1Database,
  range: { fromHour: number; toHour: number; bucket: EventCountBucket; exact?: string; prefix?: string },
): D1PreparedStatement {
  // The divisor is written into the SQL, not bound: D1 binds a JavaScript number as REAL, and hour / 24.0 is no day.
  const bucket = range.bucket === "day" ? "c.hour / 24" : "c.hour";
  return db
    .prepare(
      `SELECT ${bucket} AS bucket, j.key AS event_type, sum(j.value) AS count
       FROM event_counts c JOIN json_each(c.counts) j
       WHERE c.hour >= ?1 AND c.hour < ?2
         AND (?3 IS NULL OR j.key = ?3)
         AND (?4 IS NULL OR substr(j.key, 1, length(?4)) = ?4)
       GROUP BY ${bucket}, j.key
       ORDER BY bucket, event_type`,
    )
    .bind(range.fromHour, range.toHour, range.exact ?? null, range.prefix ?? null);
}

export async function eventCounts(db: D1Database, range: Parameters<typeof eventCountsQuery>[1]): Promise<EventCountRow[]> {
  return allRows<EventCountRow>(await eventCountsQuery(db, range).all());
}
