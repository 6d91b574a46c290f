/**
 * /admin/api/dead-letters (docs/forwarding.md "Dead letters"): deliveries that will not be retried on their own
 * (a permanent failure, retries exhausted) and events whose fan-out never happened (destination `fan-out`).
 * - GET /                             list, newest first: `destinationId` (a dst_… id or `fan-out`; absent: all),
 *                                     `since`/`until` (recorded), `limit`, `cursor`
 * - GET /{destination}/{uuid}         one, with its event and every attempt of its delivery
 * - POST /{destination}/{uuid}/redrive back to work now (200, what was redriven; 409 when it cannot be)
 * - DELETE /{destination}/{uuid}      acknowledge it: it is never redriven (204)
 * - POST /redrive                     {destinationId, ratePerSecond?}: every dead letter of a destination, as a
 *                                     job (202; progress at /admin/api/replays/{id})
 */
import { Hono, type Context } from "hono";
import * as z from "zod";
import { fromBase64Any, toBase64Url } from "../../crypto/base64";
import { firstRow } from "../../storage/d1";
import { listDeadLetters, type DeadLetterPosition, type ListedDeadLetter } from "../../storage/dead-letters";
import { listDestinations } from "../../storage/destinations";
import { getEventStatement, type EventRow } from "../../storage/events";
import { DESTINATION_ID } from "../../usecases/destination-input";
import { FAN_OUT, findDeadLetter, redriveAll, redriveDeadLetter, removeDeadLetter, storedDestinationId, type DeadLetterDeps } from "../../usecases/dead-letters";
import type { AppEnv } from "../types";
import { readValidatedJson } from "../validated-json";
import { readValidatedQuery } from "../validated-query";
import { eventDeliveriesView } from "./event-deliveries-view";
import { isoInstant } from "./events-input";
import { publicJobId } from "./event-view";
import { ratePerSecond } from "./replays";
import { replayJobView } from "./replay-view";

const iso = (ms: number) => new Date(ms).toISOString();

/** A destination as the dead-letter routes name it: a destination id, or `fan-out`. */
const letterDestination = z
  .string()
  .refine((s) => s === FAN_OUT || DESTINATION_ID.test(s), `must be a destination id (dst_…) or "${FAN_OUT}"`);

/** Opaque to clients: base64url of the last letter's position (as UTF-8 JSON). */
function encodeCursor(p: DeadLetterPosition): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([p.recordedAt, p.destinationId, p.eventUuid])));
}

const deadLetterCursor = z
  .string()
  .max(600, "must be a nextCursor value from a previous page")
  .transform((text, ctx) => {
    try {
      const bytes = fromBase64Any(text);
      const [recordedAt, destinationId, eventUuid] = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes ?? new Uint8Array())) as unknown[];
      if (Number.isSafeInteger(recordedAt) && typeof destinationId === "string" && typeof eventUuid === "string") {
        return { recordedAt: recordedAt as number, destinationId, eventUuid };
      }
    } catch {
      // reported below
    }
    ctx.addIssue({ code: "custom", message: "must be a nextCursor value from a previous page" });
    return z.NEVER;
  });

export const deadLetterListQuerySchema = z
  .strictObject({
    destinationId: letterDestination.optional(),
    since: isoInstant.optional(),
    until: isoInstant.optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, "must be an integer from 1 to 200")
      .transform(Number)
      .pipe(z.number().int().min(1, "must be an integer from 1 to 200").max(200, "must be an integer from 1 to 200"))
      .default(50),
    cursor: deadLetterCursor.optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, { message: "must be after since", path: ["until"] });

export const redriveAllRequestSchema = z.strictObject({
  destinationId: letterDestination,
  ratePerSecond,
});

/** Most destinations one unfiltered list merges (a gateway has a handful; each adds at most limit + 1 rows read). */
export const MAX_LISTED_DESTINATIONS = 100;

function deadLetterView(l: ListedDeadLetter | (Omit<ListedDeadLetter, "destinationName" | "eventType"> & Partial<ListedDeadLetter>)) {
  return {
    destinationId: l.destinationId === "" ? FAN_OUT : l.destinationId,
    destinationName: l.destinationName ?? null,
    eventUuid: l.eventUuid,
    eventType: l.eventType ?? null,
    reason: l.reason,
    attempts: l.attempts,
    recordedAt: iso(l.recordedAt),
  };
}

export const deadLetterRoutes = new Hono<AppEnv>();

const deps = (c: Context<AppEnv>): DeadLetterDeps => ({ env: c.env, config: c.var.config, now: Date.now() });

deadLetterRoutes.get("/", async (c) => {
  const query = readValidatedQuery(c.req.url, deadLetterListQuerySchema);
  const destinationIds =
    query.destinationId !== undefined
      ? [storedDestinationId(query.destinationId)!]
      : ["", ...(await listDestinations(c.env.DB, MAX_LISTED_DESTINATIONS)).map((d) => d.id)];
  const { letters, next } = await listDeadLetters(c.env.DB, {
    destinationIds,
    ...(query.since !== undefined && { since: query.since }),
    ...(query.until !== undefined && { until: query.until }),
    after: query.cursor ?? null,
    limit: query.limit,
  });
  return c.json({ deadLetters: letters.map(deadLetterView), nextCursor: next === null ? null : encodeCursor(next) });
});

deadLetterRoutes.post("/redrive", async (c) => {
  const input = await readValidatedJson(c.req.raw, redriveAllRequestSchema);
  const job = await redriveAll(deps(c), input.destinationId, input.ratePerSecond);
  c.var.logFields.jobId = publicJobId(job.id);
  return c.json(replayJobView(job), 202, { location: `/admin/api/replays/${publicJobId(job.id)}` });
});

deadLetterRoutes.get("/:destination/:uuid", async (c) => {
  const letter = await findDeadLetter(c.env.DB, c.req.param("destination"), c.req.param("uuid"));
  const row = firstRow<EventRow>(await getEventStatement(c.env.DB, letter.eventUuid).all());
  const delivery = row
    ? await eventDeliveriesView(c.env.DB, { id: row.id, uuid: row.uuid, batchId: row.batch_id, forward: row.forward })
    : null;
  return c.json({
    ...deadLetterView({ ...letter, destinationName: null, eventType: row?.event_type ?? null }),
    event: row ? { uuid: row.uuid, eventType: row.event_type, forwardState: delivery!.forwardState } : null,
    // The destination's delivery (an event-level letter: every destination's), with every attempt.
    deliveries: (delivery?.deliveries ?? []).filter((d) => letter.destinationId === "" || d.destinationId === letter.destinationId),
  });
});

deadLetterRoutes.post("/:destination/:uuid/redrive", async (c) => {
  const { redriven } = await redriveDeadLetter(deps(c), c.req.param("destination"), c.req.param("uuid"));
  c.var.logFields.redriven = redriven.length;
  return c.json({ redriven: redriven.map((k) => ({ destinationId: k.destinationId, eventUuid: k.eventUuid })) });
});

deadLetterRoutes.delete("/:destination/:uuid", async (c) => {
  await removeDeadLetter(deps(c), c.req.param("destination"), c.req.param("uuid"));
  return c.body(null, 204);
});
