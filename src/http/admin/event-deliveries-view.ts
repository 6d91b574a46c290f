/**
 * The admin API's read model of where a stored event went: one entry per destination, each with every attempt
 * (time, status, latency, error). Used by the event detail and by GET /admin/api/events/{uuid}/deliveries.
 *
 * Two sources, one read model: a first attempt that delivered is kept in its batch's `batch_deliveries` row (one row
 * per batch and destination); anything else has a `deliveries` row and `delivery_attempts` rows.
 */
import { allRows, firstRow } from "../../storage/d1";
import { batchDeliveriesStatement, listEventDeliveries, type DeliveredItem } from "../../storage/deliveries";
import { FORWARD, outboxHasStatement, type StoredEvent } from "../../storage/events";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What happened to forwarding of an event as a whole. */
export type ForwardState = "skipped" | "pending" | "unrouted" | "fanned_out";

export function forwardStateOf(forward: number, inOutbox: boolean): ForwardState {
  if (forward === FORWARD.skip) return "skipped";
  if (inOutbox) return "pending";
  return forward === FORWARD.unrouted ? "unrouted" : "fanned_out";
}

export async function eventDeliveriesView(db: D1Database, event: Pick<StoredEvent, "id" | "uuid" | "batchId" | "forward">) {
  const [inOutbox, batchRows] = await db.batch<Record<string, unknown>>([
    outboxHasStatement(db, event.batchId),
    batchDeliveriesStatement(db, event.batchId),
  ]);
  const { deliveries, attempts } = await listEventDeliveries(db, event.uuid);
  const firstTry = allRows<{ destination_id: string; delivered: string; created_at: number; destination_name: string | null }>(batchRows).flatMap((row) => {
    const item = (JSON.parse(row.delivered) as DeliveredItem[]).find(([eventId]) => eventId === event.id);
    if (!item || deliveries.some((d) => d.destination_id === row.destination_id)) return [];
    const [, status, latencyMs, attemptedAt] = item;
    return [
      {
        destinationId: row.destination_id,
        destinationName: row.destination_name,
        state: "delivered",
        attempts: 1,
        nextAttemptAt: null,
        lastStatus: status,
        lastError: null,
        createdAt: iso(attemptedAt),
        deliveredAt: iso(attemptedAt),
        attemptLog: [{ attempt: 1, attemptedAt: iso(attemptedAt), status, latencyMs, outcome: "delivered", error: null }],
      },
    ];
  });
  // camelCase, ISO times, the next attempt only while one is scheduled.
  return {
    forwardState: forwardStateOf(event.forward, firstRow(inOutbox) !== undefined),
    deliveries: [
      ...firstTry,
      ...deliveries.map((d) => ({
        destinationId: d.destination_id,
        destinationName: d.destination_name,
        state: d.state,
        attempts: d.attempts,
        nextAttemptAt: d.state === "failed" || d.state === "pending" ? iso(d.next_attempt_at) : null,
        lastStatus: d.last_status,
        lastError: d.last_error,
        createdAt: iso(d.created_at),
        deliveredAt: iso(d.delivered_at),
        attemptLog: attempts
          .filter((a) => a.destination_id === d.destination_id)
          .map((a) => ({ attempt: a.attempt, attemptedAt: iso(a.attempted_at), status: a.status, latencyMs: a.latency_ms, outcome: a.outcome, error: a.error })),
      })),
    ].sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? "") || a.destinationId.localeCompare(b.destinationId)),
  };
}
