/**
 * The admin API's read model of where a stored event went: one entry per destination — the delivery's current
 * state — with every attempt ever made to it (time, status, latency, error, and the replay or redrive job it
 * belonged to). Used by the event detail and by GET /admin/api/events/{uuid}/deliveries.
 *
 * Two sources, one read model: a first attempt that delivered is kept in its batch's `batch_deliveries` row (one row
 * per batch and destination); anything else has a `deliveries` row (its current run: a replay or a redrive reuses
 * it) and `delivery_attempts` rows.
 */
import { allRows, firstRow } from "../../storage/d1";
import { batchDeliveriesStatement, listEventDeliveries, type DeliveredItem } from "../../storage/deliveries";
import type { ForwardState } from "../../storage/event-search";
import { FORWARD, outboxHasStatement } from "../../storage/events";
import { publicJobId } from "./event-view";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function forwardStateOf(forward: number, inOutbox: boolean): ForwardState {
  if (forward === FORWARD.skip) return "skipped";
  if (inOutbox) return "pending";
  return forward === FORWARD.unrouted ? "unrouted" : "fanned_out";
}

interface AttemptView {
  attempt: number;
  attemptedAt: string | null;
  status: number | null;
  latencyMs: number;
  outcome: string;
  error: string | null;
  jobId: string | null;
  at: number;
}

export async function eventDeliveriesView(db: D1Database, event: { id: number; uuid: string; batchId: number | null; forward: number }) {
  const [inOutbox, batchRows] = await db.batch<Record<string, unknown>>([
    outboxHasStatement(db, event.batchId),
    batchDeliveriesStatement(db, event.batchId),
  ]);
  const { deliveries, attempts } = await listEventDeliveries(db, event.uuid);

  const firstTries = new Map<string, { name: string | null; item: DeliveredItem }>();
  for (const row of allRows<{ destination_id: string; delivered: string; destination_name: string | null }>(batchRows)) {
    const item = (JSON.parse(row.delivered) as DeliveredItem[]).find(([eventId]) => eventId === event.id);
    if (item) firstTries.set(row.destination_id, { name: row.destination_name, item });
  }
  const logOf = (destinationId: string): AttemptView[] => {
    const log: AttemptView[] = attempts
      .filter((a) => a.destination_id === destinationId)
      .map((a) => ({
        attempt: a.attempt,
        attemptedAt: iso(a.attempted_at),
        status: a.status,
        latencyMs: a.latency_ms,
        outcome: a.outcome,
        error: a.error,
        jobId: a.job_id === null ? null : publicJobId(a.job_id),
        at: a.attempted_at,
      }));
    const first = firstTries.get(destinationId);
    if (first) {
      const [, status, latencyMs, attemptedAt] = first.item;
      log.push({ attempt: 1, attemptedAt: iso(attemptedAt), status, latencyMs, outcome: "delivered", error: null, jobId: null, at: attemptedAt });
    }
    return log.sort((a, b) => a.at - b.at);
  };
  const withoutSortKey = (log: AttemptView[]) => log.map(({ at: _at, ...rest }) => rest);

  const entries = deliveries.map((d) => ({
    destinationId: d.destination_id,
    destinationName: d.destination_name ?? firstTries.get(d.destination_id)?.name ?? null,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.state === "failed" || d.state === "pending" ? iso(d.next_attempt_at) : null,
    lastStatus: d.last_status,
    lastError: d.last_error,
    createdAt: iso(firstTries.has(d.destination_id) ? Math.min(d.created_at, firstTries.get(d.destination_id)!.item[3]) : d.created_at),
    deliveredAt: iso(d.delivered_at),
    jobId: d.job_id === null ? null : publicJobId(d.job_id),
    attemptLog: withoutSortKey(logOf(d.destination_id)),
  }));
  for (const [destinationId, { name, item }] of firstTries) {
    if (deliveries.some((d) => d.destination_id === destinationId)) continue;
    const [, status, , attemptedAt] = item;
    entries.push({
      destinationId,
      destinationName: name,
      state: "delivered",
      attempts: 1,
      nextAttemptAt: null,
      lastStatus: status,
      lastError: null,
      createdAt: iso(attemptedAt),
      deliveredAt: iso(attemptedAt),
      jobId: null,
      attemptLog: withoutSortKey(logOf(destinationId)),
    });
  }
  // camelCase, ISO times, the next attempt only while one is scheduled.
  return {
    forwardState: forwardStateOf(event.forward, firstRow(inOutbox) !== undefined),
    deliveries: entries.sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? "") || a.destinationId.localeCompare(b.destinationId)),
  };
}
