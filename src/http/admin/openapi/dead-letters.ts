/** The OpenAPI description of /admin/api/dead-letters (src/http/admin/dead-letters.ts; docs/forwarding.md "Dead letters"). */
import * as z from "zod";
import { deadLetterListQuerySchema, redriveAllRequestSchema, type deadLetterView } from "../dead-letters";
import { count, eventUuidParam, isoTime, letterDestinationParam, nextCursor } from "./common";
import type { Assert, RouteDescription, Same } from "./describe";
import { delivery, forwardState } from "./events";
import { replayJob } from "./replays";

export const deadLetter = z
  .object({
    destinationId: z.string().describe("A destination id, or `fan-out`."),
    destinationName: z.string().nullable(),
    eventUuid: z.string(),
    eventType: z.string().nullable().describe("Null when the event is no longer stored."),
    reason: z.string(),
    attempts: count,
    recordedAt: isoTime,
  })
  .meta({ id: "DeadLetter" });
export type DeadLetterDescribed = Assert<Same<z.output<typeof deadLetter>, ReturnType<typeof deadLetterView>>>;

const letter = {
  destination: { description: "The dead letter's destination id, or `fan-out`.", schema: letterDestinationParam },
  uuid: { description: "The event's uuid.", schema: eventUuidParam },
};

export const deadLetterRouteDescriptions: RouteDescription[] = [
  {
    method: "get",
    path: "/admin/api/dead-letters",
    operationId: "listDeadLetters",
    tag: "Dead letters",
    summary: "List dead letters",
    description: "Newest first.",
    query: {
      schema: deadLetterListQuerySchema,
      descriptions: {
        destinationId: "A destination id, or `fan-out`; absent: every destination.",
        since: "Recorded at or after (ISO 8601 with a time zone).",
        until: "Recorded before.",
        limit: "Page size, 1–200 (default 50).",
        cursor: "The previous page's `nextCursor`.",
      },
    },
    responses: {
      200: { description: "A page of dead letters.", schema: z.object({ deadLetters: z.array(deadLetter), nextCursor }).meta({ id: "DeadLetterPage" }) },
    },
  },
  {
    method: "post",
    path: "/admin/api/dead-letters/redrive",
    operationId: "redriveAllDeadLetters",
    tag: "Dead letters",
    summary: "Redrive every dead letter of a destination",
    description: "As a job: its progress is at /admin/api/replays/{id} (`kind: redrive`). Fix the receiver first.",
    body: { schema: redriveAllRequestSchema.meta({ id: "RedriveAllRequest" }) },
    responses: { 202: { description: "The job, started.", schema: replayJob, headers: { location: "The job's URL." } } },
  },
  {
    method: "get",
    path: "/admin/api/dead-letters/:destination/:uuid",
    operationId: "getDeadLetter",
    tag: "Dead letters",
    summary: "A dead letter with its event and attempts",
    params: letter,
    responses: {
      200: {
        description: "The dead letter.",
        schema: deadLetter
          .extend({
            event: z.object({ uuid: z.string(), eventType: z.string(), forwardState }).nullable().describe("Null when the event is no longer stored."),
            deliveries: z.array(delivery).describe("The destination's delivery (a `fan-out` letter: every destination's), with every attempt."),
          })
          .meta({ id: "DeadLetterDetail" }),
      },
    },
    errors: ["not_found"],
  },
  {
    method: "post",
    path: "/admin/api/dead-letters/:destination/:uuid/redrive",
    operationId: "redriveDeadLetter",
    tag: "Dead letters",
    summary: "Redrive one dead letter",
    description: "Back to pending with a fresh retry schedule and its original webhook-id.",
    params: letter,
    responses: {
      200: {
        description: "The deliveries put back to work.",
        schema: z.object({ redriven: z.array(z.object({ destinationId: z.string(), eventUuid: z.string() })) }).meta({ id: "Redriven" }),
      },
    },
    errors: ["not_found", "conflict"],
    errorNotes: { conflict: "Its event cannot be forwarded (no longer stored, unreadable, loop-guarded): the message says why." },
  },
  {
    method: "delete",
    path: "/admin/api/dead-letters/:destination/:uuid",
    operationId: "deleteDeadLetter",
    tag: "Dead letters",
    summary: "Acknowledge a dead letter",
    description: "Removed and never redriven; the delivery stays dead.",
    params: letter,
    responses: { 204: { description: "Deleted." } },
    errors: ["not_found"],
  },
];
