/**
 * Fanning a stored event out to its destinations: create one delivery row per matching destination (idempotent,
 * so a redelivered event message never doubles a delivery), then enqueue one "delivery" message per delivery
 * still to attempt. Paused destinations get a 'waiting' delivery that is not enqueued; it is sent on resume.
 * Events the loop guard skipped are not forwarded. Throws when D1 or the queue fails (the message is retried; and
 * if a delivery message was never sent, the sweeper finds the delivery overdue and enqueues it).
 */
import type { Env } from "../env";
import { log } from "../log";
import { logEventSchema } from "../okta/event-hook";
import { routesTo, type RoutableEvent } from "../okta/routing";
import { allRows, firstRow } from "../storage/d1";
import { createDeliveries } from "../storage/deliveries";
import { routableDestinationsStatement, toDestination, type DestinationRow } from "../storage/destinations";
import { getEventStatement, markFannedOutStatement, type EventRow } from "../storage/events";
import { enqueueDeliveries } from "./enqueue";

export interface FanOutResult {
  outcome: "missing" | "skipped" | "fanned_out";
  deliveries: number;
  enqueued: number;
}

function routableEvent(eventType: string, payload: string): RoutableEvent {
  try {
    const parsed = logEventSchema.safeParse(JSON.parse(payload));
    if (parsed.success) return parsed.data;
  } catch {
    // Stored payloads were validated on the way in; fall back to the type alone rather than lose the event.
  }
  return { eventType };
}

/** Enqueue "delivery" messages for one event, in sendBatch-sized slices. */
export async function fanOutEvent(env: Env, uuid: string, now: number): Promise<FanOutResult> {
  // One round trip: the event and the destinations it may go to.
  const [eventRead, destinationsRead] = await env.DB.batch([getEventStatement(env.DB, uuid), routableDestinationsStatement(env.DB)]);
  const event = firstRow<EventRow>(eventRead);
  if (!event) {
    log("warn", "fan-out: event not stored", { eventUuid: uuid });
    return { outcome: "missing", deliveries: 0, enqueued: 0 };
  }
  if (event.forward_state === "skipped") return { outcome: "skipped", deliveries: 0, enqueued: 0 };
  const routable = routableEvent(event.event_type, event.payload);
  const destinations = allRows<DestinationRow>(destinationsRead).map(toDestination);
  const targets = destinations
    .filter((d) => routesTo(routable, d))
    .map((d) => ({ destinationId: d.id, waiting: d.state !== "active" }));
  // Creating the deliveries also marks the event fanned_out (one transaction); with no destination to create
  // for, the mark is the only write.
  const due = targets.length > 0 ? await createDeliveries(env.DB, uuid, targets, now) : [];
  if (targets.length === 0) await markFannedOutStatement(env.DB, uuid, now).run();
  await enqueueDeliveries(env.FORWARD_QUEUE, due.map((destinationId) => ({ uuid, destinationId })));
  return { outcome: "fanned_out", deliveries: targets.length, enqueued: due.length };
}
