/**
 * GET /admin/api/events/{uuid}/deliveries: a stored event's forwarding, one entry per destination with every
 * attempt (time, status, latency, error). 404 when the event is not stored.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors";
import { listEventDeliveries } from "../../storage/deliveries";
import { getEvent } from "../../storage/events";
import type { AppEnv } from "../types";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const eventDeliveryRoutes = new Hono<AppEnv>();

eventDeliveryRoutes.get("/:uuid/deliveries", async (c) => {
  const uuid = c.req.param("uuid");
  const event = uuid.length <= 200 ? await getEvent(c.env.DB, uuid) : null;
  if (!event) throw new ApiError("not_found", "No stored event with this uuid.");
  const { deliveries, attempts } = await listEventDeliveries(c.env.DB, uuid);
  // The API's read model: camelCase, ISO times, the next attempt only while one is scheduled.
  return c.json({
    eventUuid: event.uuid,
    eventType: event.event_type,
    forwardState: event.forward_state,
    deliveries: deliveries.map((d) => ({
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
  });
});
