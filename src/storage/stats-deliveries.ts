/**
 * Delivery stats per destination (GET /admin/api/stats/deliveries; docs/operations.md "Stats"), from the two places
 * forwarding records outcomes: `batch_deliveries` (first attempts that delivered, one row per batch and destination
 * with [event id, status, latency ms, attempted at] per event) and `deliveries` (everything else: retried, waiting,
 * dead) with its `delivery_attempts`.
 *
 * In a window [from, to):
 * - delivered: successes that happened in the window — first attempts (their attemptedAt) and retried deliveries
 *   (delivered_at); latency percentiles (nearest rank) over the same successes;
 * - dead: deliveries that died in the window (updated_at of a dead delivery is when it died);
 * and, now: retrying (pending or failed, a retry scheduled) and waiting (destination paused or disabled).
 *
 * What each part reads (D1 rows read, index entries included):
 * - first attempts: batch_deliveries rows of the batches that arrived from an hour before `from` until `to`, found
 *   as a batch id range through event_batches_received (two index entries) and read by batch_deliveries' primary
 *   key — one row per batch and destination, not per event (a 20-event delivery is one row). The hour before
 *   `from` catches batches fanned out late (the sweeper re-sends lost messages after 30 minutes);
 * - retried successes and dead: deliveries entries of each destination in state delivered / dead, through the
 *   (destination_id, state) index, plus one delivery_attempts lookup per retried success for its latency;
 * - retrying and waiting: the index entries of those states alone (the index covers the count);
 * so the cost follows the window's batches and the destinations' retained failures, never the number of events.
 */
import { allRows } from "./d1";

/** How far before the window a batch may have arrived and still have had its first attempts inside it. */
export const FAN_OUT_SLACK_MS = 3_600_000;

export interface DeliveryStatsRow {
  destination_id: string;
  destination_name: string | null;
  destination_state: string | null;
  delivered: number;
  delivered_first_attempt: number;
  p50: number | null;
  p95: number | null;
  retrying: number;
  waiting: number;
  dead: number;
}

const SUCCESSES = `
WITH bounds AS (
  SELECT (SELECT id FROM event_batches WHERE received_at >= ?1 - ?4 ORDER BY received_at LIMIT 1) AS lo,
         (SELECT id FROM event_batches WHERE received_at >= ?2 ORDER BY received_at LIMIT 1) AS hi
),
ok AS (
  SELECT bd.destination_id AS destination_id, j.value ->> 2 AS latency, 1 AS first_attempt
  FROM bounds JOIN batch_deliveries bd ON bd.batch_id >= bounds.lo AND (bounds.hi IS NULL OR bd.batch_id < bounds.hi)
       JOIN json_each(bd.delivered) j
  WHERE (?3 IS NULL OR bd.destination_id = ?3) AND j.value ->> 3 >= ?1 AND j.value ->> 3 < ?2
  UNION ALL
  SELECT d.destination_id,
         (SELECT a.latency_ms FROM delivery_attempts a
          WHERE a.event_uuid = d.event_uuid AND a.destination_id = d.destination_id AND a.outcome = 'delivered'
          ORDER BY a.attempt DESC LIMIT 1),
         0
  FROM destinations dst JOIN deliveries d ON d.destination_id = dst.id AND d.state = 'delivered'
  WHERE (?3 IS NULL OR dst.id = ?3) AND d.delivered_at >= ?1 AND d.delivered_at < ?2
),
counted AS (
  SELECT destination_id, count(*) AS delivered, sum(first_attempt) AS delivered_first_attempt FROM ok GROUP BY destination_id
),
ranked AS (
  SELECT destination_id, latency,
         row_number() OVER (PARTITION BY destination_id ORDER BY latency) AS rn,
         count(*) OVER (PARTITION BY destination_id) AS n
  FROM ok WHERE latency IS NOT NULL
),
percentiles AS (
  SELECT destination_id,
         max(CASE WHEN rn = (50 * n + 99) / 100 THEN latency END) AS p50,
         max(CASE WHEN rn = (95 * n + 99) / 100 THEN latency END) AS p95
  FROM ranked GROUP BY destination_id
)
SELECT c.destination_id, c.delivered, c.delivered_first_attempt, p.p50, p.p95
FROM counted c LEFT JOIN percentiles p ON p.destination_id = c.destination_id`;

const STATES = `
SELECT d.destination_id,
       sum(d.state IN ('pending', 'failed')) AS retrying,
       sum(d.state = 'waiting') AS waiting,
       sum(d.state = 'dead' AND d.updated_at >= ?1 AND d.updated_at < ?2) AS dead
FROM destinations dst JOIN deliveries d ON d.destination_id = dst.id AND d.state IN ('pending', 'failed', 'waiting', 'dead')
WHERE ?3 IS NULL OR dst.id = ?3
GROUP BY d.destination_id`;

const DESTINATIONS = "SELECT id, name, state FROM destinations WHERE ?1 IS NULL OR id = ?1 ORDER BY id";

/**
 * Per destination: its successes, latency percentiles, failures and backlog for [from, to), in one round trip.
 * Every existing destination (or the one asked for) is listed, with zeros when nothing happened; a deleted
 * destination appears while its first-attempt records remain, with name and state null.
 */
export async function deliveryStats(
  db: D1Database,
  window: { from: number; to: number; destinationId?: string },
): Promise<DeliveryStatsRow[]> {
  const destinationId = window.destinationId ?? null;
  const [successes, states, destinations] = await db.batch<Record<string, unknown>>([
    db.prepare(SUCCESSES).bind(window.from, window.to, destinationId, FAN_OUT_SLACK_MS),
    db.prepare(STATES).bind(window.from, window.to, destinationId),
    db.prepare(DESTINATIONS).bind(destinationId),
  ]);
  const rows = new Map<string, DeliveryStatsRow>();
  const row = (id: string): DeliveryStatsRow => {
    let found = rows.get(id);
    if (!found) {
      found = {
        destination_id: id,
        destination_name: null,
        destination_state: null,
        delivered: 0,
        delivered_first_attempt: 0,
        p50: null,
        p95: null,
        retrying: 0,
        waiting: 0,
        dead: 0,
      };
      rows.set(id, found);
    }
    return found;
  };
  for (const d of allRows<{ id: string; name: string; state: string }>(destinations)) {
    Object.assign(row(d.id), { destination_name: d.name, destination_state: d.state });
  }
  for (const s of allRows<Pick<DeliveryStatsRow, "destination_id" | "delivered" | "delivered_first_attempt" | "p50" | "p95">>(successes)) {
    Object.assign(row(s.destination_id), { delivered: s.delivered, delivered_first_attempt: s.delivered_first_attempt, p50: s.p50, p95: s.p95 });
  }
  for (const s of allRows<Pick<DeliveryStatsRow, "destination_id" | "retrying" | "waiting" | "dead">>(states)) {
    Object.assign(row(s.destination_id), { retrying: s.retrying, waiting: s.waiting, dead: s.dead });
  }
  return [...rows.values()].sort((a, b) => a.destination_id.localeCompare(b.destination_id));
}
