/**
 * Delivery stats per destination (GET /admin/api/stats/deliveries; docs/operations.md "Stats"), from the two places
 * forwarding records outcomes: `batch_deliveries` (first attempts that delivered, one row per batch and destination
 * with [event id, status, latency ms, attempted at] per event) and `deliveries` (everything else: retried, waiting,
 * dead) with its `delivery_attempts`.
 *
 * For a window [from, to):
 * - delivered on the first attempt: the events of the batches that arrived in the window (fan-out attempts a batch
 *   within seconds of its arrival), counted with json_array_length — one row read per batch and destination, never
 *   one per event;
 * - delivered after a retry (delivered_at in the window) and dead (updated_at of a dead delivery is when it died):
 *   the destination's deliveries entries in those states, through the (destination_id, state) index;
 * - latency p50/p95 (nearest rank, ms) of successful attempts: over the window's newest LATENCY_SAMPLE first-attempt
 *   successes of the destination (a bounded sample: at Okta's maximum a day holds 400,000) and its retried
 *   successes, from a latency histogram — the answer says how many successes the percentiles are over;
 * and, now: retrying (pending or failed, a retry scheduled) and waiting (destination paused or disabled), from the
 * index entries of those states alone (the index covers the count).
 *
 * The window's batches are an id range, found through event_batches_received (two index entries): batch ids grow
 * with arrival, as event ids do.
 *
 * D1 rows read (index entries and json_each elements count): about 2 × (batches in the window × destinations) for
 * the counts, at most ~2 × LATENCY_SAMPLE per destination for the percentiles, plus the destinations' retained
 * delivered/dead/backlog entries. Two round trips: the counts, then one histogram pair per destination that delivered.
 */
import { allRows, firstRow } from "./d1";

/** First-attempt successes per destination the latency percentiles are computed over (the window's newest). */
export const LATENCY_SAMPLE = 5000;

export interface LatencyPercentiles {
  p50: number;
  p95: number;
  /** Successful attempts the percentiles are over. */
  sample: number;
}

export interface DeliveryStats {
  destinationId: string;
  /** Null when the destination was deleted (its first-attempt records remain until retention). */
  name: string | null;
  state: string | null;
  deliveredFirstAttempt: number;
  deliveredAfterRetry: number;
  dead: number;
  retrying: number;
  waiting: number;
  latency: LatencyPercentiles | null;
}

const BATCH_RANGE = `
SELECT (SELECT id FROM event_batches WHERE received_at >= ?1 ORDER BY received_at LIMIT 1) AS lo,
       (SELECT id FROM event_batches WHERE received_at >= ?2 ORDER BY received_at LIMIT 1) AS hi`;

/** First-attempt successes of the batches that arrived in [?1, ?2), per destination. */
const FIRST_ATTEMPT_COUNTS = `
WITH range AS (${BATCH_RANGE})
SELECT destination_id, sum(json_array_length(delivered)) AS delivered FROM batch_deliveries
WHERE batch_id >= (SELECT lo FROM range) AND ((SELECT hi FROM range) IS NULL OR batch_id < (SELECT hi FROM range))
  AND (?3 IS NULL OR destination_id = ?3)
GROUP BY destination_id`;

const STATES = `
SELECT d.destination_id,
       sum(d.state IN ('pending', 'failed')) AS retrying,
       sum(d.state = 'waiting') AS waiting,
       sum(d.state = 'dead' AND d.updated_at >= ?1 AND d.updated_at < ?2) AS dead,
       sum(d.state = 'delivered' AND d.delivered_at >= ?1 AND d.delivered_at < ?2) AS delivered_after_retry
FROM destinations dst JOIN deliveries d ON d.destination_id = dst.id
     AND d.state IN ('pending', 'failed', 'waiting', 'dead', 'delivered')
WHERE ?3 IS NULL OR dst.id = ?3
GROUP BY d.destination_id`;

const DESTINATIONS = "SELECT id, name, state FROM destinations WHERE ?1 IS NULL OR id = ?1 ORDER BY id";

/** Latency histogram of one destination's newest ?4 first-attempt successes in batches [?1, ?2). */
const FIRST_ATTEMPT_LATENCIES = `
SELECT latency, count(*) AS n FROM (
  SELECT j.value ->> 2 AS latency FROM batch_deliveries bd JOIN json_each(bd.delivered) j
  WHERE bd.batch_id >= ?1 AND (?2 IS NULL OR bd.batch_id < ?2) AND bd.destination_id = ?3
  ORDER BY bd.batch_id DESC LIMIT ?4)
GROUP BY latency`;

/** Latency histogram of one destination's retried successes in [?1, ?2) (the attempt that delivered). */
const RETRIED_LATENCIES = `
SELECT a.latency_ms AS latency, count(*) AS n
FROM deliveries d JOIN delivery_attempts a
  ON a.event_uuid = d.event_uuid AND a.destination_id = d.destination_id AND a.outcome = 'delivered'
WHERE d.destination_id = ?3 AND d.state = 'delivered' AND d.delivered_at >= ?1 AND d.delivered_at < ?2
GROUP BY a.latency_ms`;

/** Nearest-rank percentiles from a histogram of (value, count). */
export function percentiles(histogram: ReadonlyArray<{ latency: number; n: number }>): LatencyPercentiles | null {
  const sorted = [...histogram].filter((h) => h.n > 0).sort((a, b) => a.latency - b.latency);
  const total = sorted.reduce((sum, h) => sum + h.n, 0);
  if (total === 0) return null;
  const at = (p: number) => {
    const rank = Math.ceil((p / 100) * total);
    let seen = 0;
    for (const h of sorted) {
      seen += h.n;
      if (seen >= rank) return h.latency;
    }
    return sorted[sorted.length - 1]!.latency;
  };
  return { p50: at(50), p95: at(95), sample: total };
}

/**
 * Every existing destination (or the one asked for), with zeros when nothing happened, and any deleted destination
 * whose first-attempt records of the window remain.
 */
export async function deliveryStats(
  db: D1Database,
  window: { from: number; to: number; destinationId?: string },
): Promise<DeliveryStats[]> {
  const destinationId = window.destinationId ?? null;
  const [range, counts, states, destinations] = await db.batch<Record<string, unknown>>([
    db.prepare(BATCH_RANGE).bind(window.from, window.to),
    db.prepare(FIRST_ATTEMPT_COUNTS).bind(window.from, window.to, destinationId),
    db.prepare(STATES).bind(window.from, window.to, destinationId),
    db.prepare(DESTINATIONS).bind(destinationId),
  ]);
  const rows = new Map<string, DeliveryStats>();
  const row = (id: string): DeliveryStats => {
    let found = rows.get(id);
    if (!found) {
      found = { destinationId: id, name: null, state: null, deliveredFirstAttempt: 0, deliveredAfterRetry: 0, dead: 0, retrying: 0, waiting: 0, latency: null };
      rows.set(id, found);
    }
    return found;
  };
  for (const d of allRows<{ id: string; name: string; state: string }>(destinations)) Object.assign(row(d.id), { name: d.name, state: d.state });
  for (const c of allRows<{ destination_id: string; delivered: number }>(counts)) row(c.destination_id).deliveredFirstAttempt = c.delivered;
  for (const s of allRows<{ destination_id: string; retrying: number; waiting: number; dead: number; delivered_after_retry: number }>(states)) {
    Object.assign(row(s.destination_id), { retrying: s.retrying, waiting: s.waiting, dead: s.dead, deliveredAfterRetry: s.delivered_after_retry });
  }
  // The window's batches are ids [lo, hi): lo is the first to arrive at or after `from` (none: no batch in the
  // window), hi the first at or after `to` (none: no end).
  const bounds = firstRow<{ lo: number | null; hi: number | null }>(range);
  const lo = bounds?.lo ?? null;
  const hi = bounds?.hi ?? null;
  const measured = [...rows.values()].filter((r) => r.deliveredFirstAttempt + r.deliveredAfterRetry > 0);
  if (measured.length > 0) {
    const histograms = await db.batch<{ latency: number; n: number }>(
      measured.flatMap((r) => [
        db.prepare(FIRST_ATTEMPT_LATENCIES).bind(lo ?? 0, lo === null ? 0 : hi, r.destinationId, LATENCY_SAMPLE),
        db.prepare(RETRIED_LATENCIES).bind(window.from, window.to, r.destinationId),
      ]),
    );
    measured.forEach((r, i) => {
      r.latency = percentiles([...allRows<{ latency: number; n: number }>(histograms[2 * i]), ...allRows<{ latency: number; n: number }>(histograms[2 * i + 1])]);
    });
  }
  return [...rows.values()].sort((a, b) => a.destinationId.localeCompare(b.destinationId));
}
