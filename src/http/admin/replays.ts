/**
 * /admin/api/replays (docs/forwarding.md "Replay"):
 * - POST /            {eventUuid | filter, destinationId?, dryRun?, ratePerSecond?}: with dryRun, 200 and the
 *                     counts; otherwise 202 and the job (a one-event replay has already been handed to forwarding)
 * - GET /             jobs, newest first (`limit`, `cursor`)
 * - GET /{id}         one job and its progress
 * - POST /{id}/cancel stop a running job at its next step
 * Parse, call the use case (src/usecases/replay.ts), answer; redrive-all jobs (dead letters) are listed here too.
 */
import { Hono, type Context } from "hono";
import * as z from "zod";
import { DESTINATION_ID } from "../../usecases/destination-input";
import { cancelReplay, findJob, startReplay, type ReplayDeps } from "../../usecases/replay";
import { listJobs } from "../../storage/replay-jobs";
import type { AppEnv } from "../types";
import { readValidatedJson } from "../validated-json";
import { readValidatedQuery } from "../validated-query";
import { eventSelectionFields, toEventFilter } from "./events-input";
import { parseJobId, publicJobId } from "./event-view";
import { replayJobView } from "./replay-view";

/** Deliveries a job hands to the queue per second: 10 by default, at most 100. */
export const ratePerSecond = z
  .number({ error: "must be an integer from 1 to 100" })
  .int("must be an integer from 1 to 100")
  .min(1, "must be an integer from 1 to 100")
  .max(100, "must be an integer from 1 to 100")
  .default(10);

const replayFilterSchema = z
  .strictObject(eventSelectionFields)
  .refine((f) => f.since === undefined || f.until === undefined || f.since < f.until, { message: "must be after since", path: ["until"] });

export const replayRequestSchema = z
  .strictObject({
    eventUuid: z.string().min(1, "must be a stored event's uuid").max(200, "must be a stored event's uuid").optional(),
    filter: replayFilterSchema.optional(),
    destinationId: z.string().regex(DESTINATION_ID, "must be a destination id (dst_…)").optional(),
    dryRun: z.boolean({ error: "must be true or false" }).default(false),
    ratePerSecond,
  })
  .refine((r) => (r.eventUuid === undefined) !== (r.filter === undefined), {
    message: 'give either "eventUuid" (one event) or "filter" (every event it matches; {} for all)',
    path: ["eventUuid"],
  });
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

export const replayListQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, "must be an integer from 1 to 100")
    .transform(Number)
    .pipe(z.number().int().min(1, "must be an integer from 1 to 100").max(100, "must be an integer from 1 to 100"))
    .default(20),
  cursor: z.string().regex(/^job_[1-9]\d{0,15}$/, "must be a nextCursor value from a previous page").optional(),
});

export const replayRoutes = new Hono<AppEnv>();

const deps = (c: Context<AppEnv>): ReplayDeps => ({ env: c.env, config: c.var.config, now: Date.now() });

replayRoutes.post("/", async (c) => {
  const input = await readValidatedJson(c.req.raw, replayRequestSchema);
  const result = await startReplay(deps(c), {
    ...(input.eventUuid !== undefined && { eventUuid: input.eventUuid }),
    ...(input.filter !== undefined && { filter: toEventFilter(input.filter) }),
    ...(input.destinationId !== undefined && { destinationId: input.destinationId }),
    dryRun: input.dryRun,
    ratePerSecond: input.ratePerSecond,
  });
  if ("dryRun" in result) {
    c.var.logFields.dryRunEvents = result.dryRun.events;
    return c.json({ dryRun: true, ...result.dryRun });
  }
  c.var.logFields.jobId = publicJobId(result.job.id);
  return c.json(replayJobView(result.job), 202, { location: `/admin/api/replays/${publicJobId(result.job.id)}` });
});

replayRoutes.get("/", async (c) => {
  const query = readValidatedQuery(c.req.url, replayListQuerySchema);
  const jobs = await listJobs(c.env.DB, query.cursor === undefined ? null : parseJobId(query.cursor), query.limit + 1);
  const page = jobs.slice(0, query.limit);
  return c.json({
    jobs: page.map(replayJobView),
    nextCursor: jobs.length > query.limit ? publicJobId(page[page.length - 1]!.id) : null,
  });
});

replayRoutes.get("/:id", async (c) => {
  return c.json(replayJobView(await findJob(c.env.DB, parseJobId(c.req.param("id")))));
});

replayRoutes.post("/:id/cancel", async (c) => {
  const job = await cancelReplay(deps(c), parseJobId(c.req.param("id")));
  c.var.logFields.jobId = publicJobId(job.id);
  return c.json(replayJobView(job));
});
