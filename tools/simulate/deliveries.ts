/**
 * Event hook deliveries as Okta sends them (https://developer.okta.com/docs/concepts/event-hooks/): the envelope
 * (`com.okta.event_hook`, `cloudEventsVersion` with its plural, Okta's key order as captured), events that happen
 * close together batched into one POST, and Okta's at-least-once behaviour — the same event (`uuid`) in two
 * deliveries with different envelope `eventId`s, and a retry that sends an envelope again byte for byte.
 */
import type { EligibleEventType } from "./event-types.ts";
import { simulatedLogEvent, type SimulatedLogEvent, type SimulatedOrg } from "./log-events.ts";
import type { Random } from "./random.ts";

export interface SimulatedDelivery {
  /** What this POST is, for the report: "batch 3 of 17", "duplicate of batch 1's event". */
  label: string;
  eventId: string;
  /** The exact body sent. */
  body: string;
  uuids: string[];
}

export interface DeliveryContext {
  random: Random;
  org: SimulatedOrg;
  /** The event hook's id (`who…`), in `source` and in Okta's user agent. */
  eventHookId: string;
  /** Now, in epoch ms: events are published in the seconds before it. */
  now: number;
}

/** Okta's envelope, keys in the order of captured production deliveries. */
export function deliveryBody(ctx: DeliveryContext, events: SimulatedLogEvent[], eventId = ctx.random.uuid()): { eventId: string; body: string } {
  const envelope = {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: `https://${ctx.org.domain}/api/v1/eventHooks/${ctx.eventHookId}`,
    eventId,
    data: { events },
    eventTime: new Date(ctx.now).toISOString(),
    contentType: "application/json",
  };
  return { eventId, body: JSON.stringify(envelope) };
}

function delivery(ctx: DeliveryContext, label: string, events: SimulatedLogEvent[]): SimulatedDelivery {
  const { eventId, body } = deliveryBody(ctx, events);
  return { label, eventId, body, uuids: events.map((e) => e.uuid) };
}

/** Events of the given types, published a few ms to a few hundred ms apart, ending a little before `now`. */
export function simulatedEvents(ctx: DeliveryContext, types: readonly EligibleEventType[]): SimulatedLogEvent[] {
  let at = ctx.now - 2_000 - types.length * 50;
  return types.map((type) => {
    at += ctx.random.int(1, 100);
    return simulatedLogEvent(type, at, ctx.random, ctx.org);
  });
}

/**
 * One event of every given type, in batches of 1 to `maxBatch` events. Okta documents that events may arrive out
 * of order, so now and then two neighbours in a batch swap places.
 */
export function batchedDeliveries(ctx: DeliveryContext, types: readonly EligibleEventType[], maxBatch: number): SimulatedDelivery[] {
  const events = simulatedEvents(ctx, types);
  const batches: SimulatedLogEvent[][] = [];
  for (let i = 0; i < events.length; ) {
    const size = ctx.random.int(1, Math.max(1, maxBatch));
    const batch = events.slice(i, i + size);
    if (batch.length > 1 && ctx.random.chance(0.3)) {
      const j = ctx.random.int(0, batch.length - 2);
      [batch[j], batch[j + 1]] = [batch[j + 1]!, batch[j]!];
    }
    batches.push(batch);
    i += size;
  }
  return batches.map((batch, i) => delivery(ctx, `batch ${i + 1} of ${batches.length} (${batch.length} event${batch.length === 1 ? "" : "s"})`, batch));
}

/**
 * Okta's duplicate: an event already delivered arrives again in another delivery (its own `eventId`), beside an
 * event that is new. The gateway must answer both, and store the repeated event once.
 */
export function duplicateDeliveries(ctx: DeliveryContext, types: readonly EligibleEventType[]): SimulatedDelivery[] {
  const [first, second, third] = simulatedEvents(ctx, [ctx.random.pick(types), ctx.random.pick(types), ctx.random.pick(types)]);
  return [
    delivery(ctx, "first delivery (2 events)", [first!, second!]),
    delivery(ctx, "another delivery repeating one of them, beside a new event", [second!, third!]),
  ];
}

/** Okta's retry after a timeout or a 5xx: the same envelope, byte for byte. */
export function retriedDelivery(ctx: DeliveryContext, types: readonly EligibleEventType[]): SimulatedDelivery[] {
  const original = delivery(ctx, "delivery (3 events)", simulatedEvents(ctx, [0, 1, 2].map(() => ctx.random.pick(types))));
  return [original, { ...original, label: "the same delivery again (Okta's retry)" }];
}
