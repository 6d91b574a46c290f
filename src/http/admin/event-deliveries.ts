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
  const deliveries = await listEventDeliveries(c.env.DB, uuid);
  return c.json({
    eventUuid: event.uuid,
    eventType: event.event_type,
    forwardState: event.forward_state,
    deliveries: deliveries.map((d) => ({
      destinationId: d.destinationId,
      destinationName: d.destinationName,
      state: d.state,
      attempts: d.attempts,
      nextAttemptAt: d.state === "failed" || d.state === "pending" ? iso(d.nextAttemptAt) : null,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      createdAt: iso(d.createdAt),
      deliveredAt: iso(d.deliveredAt),
      attemptLog: d.attemptLog.map((a) => ({ ...a, attemptedAt: iso(a.attemptedAt) })),
    })),
  });
});
