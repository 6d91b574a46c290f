/**
 * /admin/api/events: a stored event's forwarding (GET /{uuid}/deliveries), one entry per destination with every
 * attempt; 404 when the event is not stored. The read model lives in ./event-deliveries-view.ts.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors";
import { getEvent } from "../../storage/events";
import type { AppEnv } from "../types";
import { eventDeliveriesView } from "./event-deliveries-view";

export const eventRoutes = new Hono<AppEnv>();

eventRoutes.get("/:uuid/deliveries", async (c) => {
  const uuid = c.req.param("uuid");
  const event = uuid.length <= 200 ? await getEvent(c.env.DB, uuid) : null;
  if (!event) throw new ApiError("not_found", "No stored event with this uuid.");
  const view = await eventDeliveriesView(c.env.DB, event);
  return c.json({ eventUuid: event.uuid, eventType: event.eventType, ...view });
});
