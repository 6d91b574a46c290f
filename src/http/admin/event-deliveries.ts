/**
 * GET /admin/api/events/{uuid}/deliveries: a stored event's forwarding, one entry per destination with every
 * attempt (time, status, latency, error). 404 when the event is not stored.
 *
 * Two sources, one read model: a first attempt that delivered is kept in its batch's `batch_deliveries` row (one row
 * per batch and destination); anything else has a `deliveries` row and `delivery_attempts` rows.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors";
import { allRows, firstRow } from "../../storage/d1";
import { batchDeliveriesStatement, listEventDeliveries, type DeliveredItem } from "../../storage/deliveries";
import { FORWARD, getEvent, outboxHasStatement } from "../../storage/events";
import type { AppEnv } from "../types";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const eventDeliveryRoutes = new Hono<AppEnv>();

eventDeliveryRoutes.get("/:uuid/deliveries", async (c) => {
  const uuid = c.req.param("uuid");
  const event = uuid.length <= 200 ? await getEvent(c.env.DB, uuid) : null;
  if (!event) throw new ApiError("not_found", "No stored event with this uuid.");
  const [inOutbox, batchRows] = await c.env.DB.batch<Record<string, unknown>>([
    outboxHasStatement(c.env.DB, event.batchId),
    batchDeliveriesStatement(c.env.DB, event.batchId),
  ]);
  const { deliveries, attempts } = await listEventDeliveries(c.env.DB, uuid);
  const forwardState =
    event.forward === FORWARD.skip ? "skipped" : firstRow(inOutbox) ? "pending" : event.forward === FORWARD.unrouted ? "unrouted" : "fanned_out";
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
  // The API's read model: camelCase, ISO times, the next attempt only while one is scheduled.
  return c.json({
    eventUuid: event.uuid,
    eventType: event.eventType,
    forwardState,
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
  });
});
