/** The OpenAPI description of /admin/api/replays (src/http/admin/replays.ts; docs/forwarding.md "Replay"). */
import * as z from "zod";
import type { replayJobView } from "../replay-view";
import { replayListQuerySchema, replayRequestSchema } from "../replays";
import { count, isoTime, jobIdParam, nextCursor } from "./common";
import type { Assert, RouteDescription, Same } from "./describe";

export const replayJob = z
  .object({
    id: z.string().describe("`job_…`"),
    kind: z.enum(["replay", "redrive"]),
    state: z.enum(["running", "finished", "cancelled"]),
    eventUuid: z.string().nullable().describe("A one-event replay's event."),
    filter: z
      .object({
        type: z.string().nullable(),
        since: isoTime.nullable(),
        until: isoTime.nullable(),
        timeField: z.enum(["published", "received"]).nullable(),
        actor: z.string().nullable(),
        outcome: z.string().nullable(),
        org: z.string().nullable(),
      })
      .nullable()
      .describe("A filter replay's selection, as it was asked for."),
    destinationId: z.string().nullable().describe("Only this destination (`fan-out` for a redrive of fan-outs); null: every matching one."),
    ratePerSecond: z.number().int(),
    progress: z.object({
      matched: count.describe("(event, destination) pairs selected."),
      enqueued: count.describe("Handed to forwarding."),
      skipped: count.describe("Left alone: a delivery already in progress."),
      delivered: count,
      failed: count.describe("Of the enqueued, dead."),
      scanned: z.number().min(0).max(1).nullable().describe("How far through its range the job is; null while a redrive runs."),
    }),
    createdAt: isoTime.nullable(),
    updatedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
  })
  .meta({ id: "ReplayJob", description: "A replay or redrive job and its progress." });
export type ReplayJobDescribed = Assert<Same<z.output<typeof replayJob>, ReturnType<typeof replayJobView>>>;

const dryRun = z
  .object({
    dryRun: z.literal(true),
    events: count.describe("Events the selection matches."),
    destinations: z.array(
      z.object({
        destinationId: z.string(),
        name: z.string(),
        events: count,
        exact: z.boolean().describe("False when the destination has actor or target conditions: the count is an upper bound."),
      }),
    ),
    complete: z.boolean().describe("False when the range was too large to count whole (its newest 1,000,000 events)."),
  })
  .meta({ id: "ReplayDryRun" });

const id = { id: { description: "The job's id.", schema: jobIdParam } };

export const replayRouteDescriptions: RouteDescription[] = [
  {
    method: "post",
    path: "/admin/api/replays",
    operationId: "startReplay",
    tag: "Replays",
    summary: "Replay one event or a filter's events",
    description:
      "Either `eventUuid` or `filter` (`{}`: every event). With `dryRun`, answers the counts and changes nothing; otherwise starts a job through the forward queue at `ratePerSecond`. A replay gets its own webhook-id (docs/forwarding.md \"What a receiver gets\").",
    body: { schema: replayRequestSchema.meta({ id: "ReplayRequest" }) },
    responses: {
      200: { description: "The dry run's counts.", schema: dryRun },
      202: { description: "The job, started.", schema: replayJob, headers: { location: "The job's URL." } },
    },
    errors: ["conflict"],
    errorNotes: { conflict: "The event is loop-guarded or still waiting for fan-out." },
  },
  {
    method: "get",
    path: "/admin/api/replays",
    operationId: "listReplays",
    tag: "Replays",
    summary: "List replay and redrive jobs",
    description: "Newest first.",
    query: {
      schema: replayListQuerySchema,
      descriptions: { limit: "Page size, 1–100 (default 20).", cursor: "The previous page's `nextCursor`." },
    },
    responses: { 200: { description: "A page of jobs.", schema: z.object({ jobs: z.array(replayJob), nextCursor }).meta({ id: "ReplayJobPage" }) } },
  },
  {
    method: "get",
    path: "/admin/api/replays/:id",
    operationId: "getReplay",
    tag: "Replays",
    summary: "A job and its progress",
    params: id,
    responses: { 200: { description: "The job.", schema: replayJob } },
    errors: ["not_found"],
  },
  {
    method: "post",
    path: "/admin/api/replays/:id/cancel",
    operationId: "cancelReplay",
    tag: "Replays",
    summary: "Cancel a running job",
    description: "It stops at its next step; deliveries already handed to the queue still go.",
    params: id,
    responses: { 200: { description: "The cancelled job.", schema: replayJob } },
    errors: ["not_found", "conflict"],
    errorNotes: { conflict: "The job is not running." },
  },
];
