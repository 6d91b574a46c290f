/**
 * The OpenAPI description of /admin/api/events (src/http/admin/events.ts; docs/forwarding.md "Finding events"),
 * and the deliveries read model it shares with the dead letters.
 */
import * as z from "zod";
import { FORWARD_STATES, type ForwardState } from "../../../storage/event-search";
import type { eventDeliveriesView } from "../event-deliveries-view";
import type { eventSummaryView } from "../event-view";
import { eventSearchQuerySchema } from "../events-input";
import { count, eventUuidParam, isoTime, nextCursor } from "./common";
import type { Assert, RouteDescription, Same } from "./describe";

export const forwardState = z
  .enum(FORWARD_STATES as [ForwardState, ...ForwardState[]])
  .describe("`pending`: waiting for fan-out; `fanned_out`; `unrouted`: no destination wanted it when it arrived; `skipped`: loop guard.");

export const eventSummary = z
  .object({
    uuid: z.string(),
    eventType: z.string(),
    published: isoTime.nullable(),
    receivedAt: isoTime.nullable(),
    actorId: z.string().nullable(),
    actorAlternateId: z.string().nullable(),
    outcomeResult: z.string().nullable(),
    severity: z.string().nullable(),
    oktaOrg: z.string().nullable(),
    forwardState,
  })
  .meta({ id: "EventSummary" });
export type EventSummaryDescribed = Assert<Same<z.output<typeof eventSummary>, ReturnType<typeof eventSummaryView>>>;

export const attempt = z
  .object({
    attempt: z.number().int().min(1),
    attemptedAt: isoTime.nullable(),
    status: z.number().int().nullable().describe("The receiver's HTTP status; null when no answer came."),
    latencyMs: count,
    outcome: z.string().describe("`delivered`, `retry` or `dead`."),
    error: z.string().nullable(),
    jobId: z.string().nullable().describe("The replay or redrive job the attempt belonged to; null: the live stream."),
  })
  .meta({ id: "Attempt" });

export const delivery = z
  .object({
    destinationId: z.string(),
    destinationName: z.string().nullable(),
    state: z.enum(["pending", "failed", "waiting", "delivered", "dead"]),
    attempts: count,
    nextAttemptAt: isoTime.nullable().describe("While an attempt is scheduled."),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: isoTime.nullable(),
    deliveredAt: isoTime.nullable(),
    jobId: z.string().nullable().describe("The job that opened the current run; null: the live stream."),
    attemptLog: z.array(attempt),
  })
  .meta({ id: "Delivery", description: "Where an event went at one destination: the delivery's current state and every attempt." });

const deliveriesOfEvent = z.object({ forwardState, deliveries: z.array(delivery) });
export type DeliveriesDescribed = Assert<Same<z.output<typeof deliveriesOfEvent>, Awaited<ReturnType<typeof eventDeliveriesView>>>>;

const uuid = { uuid: { description: "Okta's event uuid.", schema: eventUuidParam } };

export const eventRouteDescriptions: RouteDescription[] = [
  {
    method: "get",
    path: "/admin/api/events",
    operationId: "searchEvents",
    tag: "Events",
    summary: "Search stored events",
    description:
      "Newest first, filters combined with AND. Each page reads a bounded number of D1 rows, so a page may be short — even empty — while more match: follow `nextCursor` until it is null.",
    query: {
      schema: eventSearchQuerySchema,
      descriptions: {
        type: 'An exact event type, a prefix ending in `.*` (`user.lifecycle.*`), or `*`.',
        since: "ISO 8601 date-time with a time zone; inclusive.",
        until: "ISO 8601 date-time with a time zone; exclusive.",
        timeField: "Which time `since` and `until` apply to: Okta's `published` (default) or `received` (when stored).",
        actor: "`actor.id` or `actor.alternateId`, exactly.",
        outcome: "`outcome.result` (SUCCESS, FAILURE, DENY…), case-insensitive.",
        org: "The Okta org host the event came from (`acme.okta.com`).",
        target: "Some `target[].id`.",
        forward: "Comma-separated forward states: pending, fanned_out, unrouted, skipped.",
        limit: "Page size, 1–200 (default 50).",
        cursor: "The previous page's `nextCursor`.",
      },
    },
    responses: {
      200: { description: "A page of events.", schema: z.object({ events: z.array(eventSummary), nextCursor }).meta({ id: "EventPage" }) },
    },
  },
  {
    method: "get",
    path: "/admin/api/events/:uuid",
    operationId: "getEvent",
    tag: "Events",
    summary: "Get an event with its payload and deliveries",
    params: uuid,
    responses: {
      200: {
        description: "The event.",
        schema: eventSummary
          .extend({
            eventHookId: z.string().nullable(),
            envelopeEventId: z.string().nullable(),
            payload: z.unknown().describe("Okta's event object, exactly as it was received; null when the stored payload cannot be read."),
            deliveries: z.array(delivery),
          })
          .meta({ id: "EventDetail" }),
      },
    },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/api/events/:uuid/deliveries",
    operationId: "getEventDeliveries",
    tag: "Events",
    summary: "Where an event went",
    params: uuid,
    responses: {
      200: {
        description: "Its deliveries, each with every attempt.",
        schema: deliveriesOfEvent.extend({ eventUuid: z.string(), eventType: z.string() }).meta({ id: "EventDeliveries" }),
      },
    },
    errors: ["not_found"],
  },
];
