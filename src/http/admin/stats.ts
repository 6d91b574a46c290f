/**
 * GET /admin/api/stats… (docs/operations.md "Stats"): what the gateway received and where it went, computed with
 * bounded queries (each says below what it reads), and D1's size against its limit.
 *
 * - GET /stats             D1 size against D1_SIZE_LIMIT_MB, the retention settings, the stored range, the outbox
 * - GET /stats/events      events received per hour or UTC day and type (the event_counts rollup)
 * - GET /stats/deliveries  per destination: delivered, retrying, waiting, dead, success rate, p50/p95 latency
 * - GET /stats/inline      per inline hook type: calls, decisions, decided-by groups, fallbacks, p50/p95/p99 latency
 *
 * Every query is an exported zod schema (strict: an unknown parameter is refused), times are ISO 8601 date-times,
 * and a bad value is a 400 `bad_request` naming the parameter. Answers are camelCase with ISO times.
 */
import { Hono, type Context } from "hono";
import * as z from "zod";
import { ApiError } from "../../errors";
import { describeFirstIssue } from "../../validation";
import { firstRow } from "../../storage/d1";
import { deliveryStats } from "../../storage/stats-deliveries";
import { sizeAfter } from "../../storage/stats-d1-size";
import { eventCounts, HOUR_MS } from "../../storage/stats-events";
import { inlineCallStats, type InlineTypeStats } from "../../storage/stats-inline";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../okta/inline/common";
import { DESTINATION_ID } from "../../usecases/destination-input";
import type { AppEnv } from "../types";

const DAY_HOURS = 24;
/** Most buckets one events answer holds: a week of hours, a quarter of days. */
export const MAX_HOUR_BUCKETS = 7 * DAY_HOURS;
export const MAX_DAY_BUCKETS = 92;
/** Longest window of delivery stats (what it reads grows with the window's batches). */
export const MAX_DELIVERY_WINDOW_MS = 7 * DAY_HOURS * HOUR_MS;

const iso = (ms: number) => new Date(ms).toISOString();

/** An ISO 8601 date-time with `Z` or an offset, as epoch ms. */
const dateTime = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z" })
  .transform((text) => Date.parse(text));

/** An event type (Okta's eventType characters) or a prefix pattern `user.session.*`, as destinations filter. */
const eventTypePattern = z
  .string()
  .regex(/^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}|[A-Za-z0-9_-][A-Za-z0-9._-]{0,196}\.\*)$/, "must be an event type or a prefix pattern such as user.session.*");

export const statsOverviewQuerySchema = z.strictObject({});

export const eventStatsQuerySchema = z
  .strictObject({
    bucket: z.enum(["hour", "day"], { error: 'must be "hour" or "day"' }).default("hour"),
    since: dateTime.optional(),
    until: dateTime.optional(),
    type: eventTypePattern.optional(),
  })
  .superRefine((q, ctx) => {
    if (q.since !== undefined && q.until !== undefined && q.since >= q.until) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "must be later than since" });
    }
  });
export type EventStatsQuery = z.infer<typeof eventStatsQuerySchema>;

export const deliveryStatsQuerySchema = z
  .strictObject({
    since: dateTime.optional(),
    until: dateTime.optional(),
    destinationId: z.string().regex(DESTINATION_ID, "must be a destination id (dst_ and 20 hex digits)").optional(),
  })
  .superRefine((q, ctx) => {
    if (q.since !== undefined && q.until !== undefined && q.since >= q.until) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "must be later than since" });
    }
  });
export type DeliveryStatsQuery = z.infer<typeof deliveryStatsQuerySchema>;

/** Longest window of inline hook stats (a type's figures are over its newest rows of the window anyway). */
export const MAX_INLINE_WINDOW_MS = 7 * DAY_HOURS * HOUR_MS;

export const inlineStatsQuerySchema = z
  .strictObject({
    since: dateTime.optional(),
    until: dateTime.optional(),
    type: z.enum(INLINE_HOOK_TYPES as [InlineHookType, ...InlineHookType[]], { error: `must be one of ${INLINE_HOOK_TYPES.join(", ")}` }).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.since !== undefined && q.until !== undefined && q.since >= q.until) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "must be later than since" });
    }
  });
export type InlineStatsQuery = z.infer<typeof inlineStatsQuerySchema>;

/** The request's query string against `schema`: one value per name, a 400 naming the first bad parameter. */
export function readQuery<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.infer<S> {
  const entries: Array<[string, string]> = [];
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) throw new ApiError("bad_request", `${name}: must be given once`);
    entries.push([name, values[0]!]);
  }
  // fromEntries defines own properties: "__proto__" is an unknown parameter, not an assignment to the prototype.
  const raw: Record<string, string> = Object.fromEntries(entries);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === "unrecognized_keys") throw new ApiError("bad_request", `${issue.keys[0]}: is not a parameter of this route`);
    throw new ApiError("bad_request", describeFirstIssue(parsed.error, raw));
  }
  return parsed.data;
}

/** The D1 size against the configured limit, as stats and /healthz show it. */
export function d1SizeView(sizeBytes: number | null, limitBytes: number) {
  return { sizeBytes, limitBytes, usedPercent: sizeBytes === null ? null : Math.round((sizeBytes / limitBytes) * 1000) / 10 };
}

export const statsRoutes = new Hono<AppEnv>();

/**
 * The overview. Reads: the oldest and newest event (one primary-key entry each), the outbox (one row per batch
 * not yet fanned out: small), and the last 24 hours of the rollup (24 rows and their types). D1's size comes with
 * the results (meta.size_after).
 */
statsRoutes.get("/", async (c) => {
  readQuery(c, statsOverviewQuerySchema);
  const now = Date.now();
  const fromHour = Math.floor(now / HOUR_MS) - 23;
  const [range, outbox, recent] = await c.env.DB.batch<Record<string, unknown>>([
    c.env.DB.prepare(
      `SELECT (SELECT received_at FROM event_batches ORDER BY id LIMIT 1) AS oldest,
              (SELECT received_at FROM event_batches ORDER BY id DESC LIMIT 1) AS newest`,
    ),
    c.env.DB.prepare("SELECT count(*) AS batches, min(created_at) AS oldest FROM forward_outbox"),
    c.env.DB.prepare("SELECT coalesce(sum(j.value), 0) AS events FROM event_counts c JOIN json_each(c.counts) j WHERE c.hour >= ?1").bind(fromHour),
  ]);
  const stored = firstRow<{ oldest: number | null; newest: number | null }>(range);
  const waiting = firstRow<{ batches: number; oldest: number | null }>(outbox);
  const { retention, d1SizeLimitBytes } = c.var.config;
  return c.json({
    d1: d1SizeView(sizeAfter(recent), d1SizeLimitBytes),
    events: {
      oldestReceivedAt: stored?.oldest == null ? null : iso(stored.oldest),
      newestReceivedAt: stored?.newest == null ? null : iso(stored.newest),
      receivedLast24Hours: firstRow<{ events: number }>(recent)?.events ?? 0,
    },
    outbox: { batches: waiting?.batches ?? 0, oldestCreatedAt: waiting?.oldest == null ? null : iso(waiting.oldest) },
    retention: { ...retention, archive: c.env.ARCHIVE !== undefined },
  });
});

/**
 * Events received per bucket and type. Buckets are aligned to UTC hours or days: `since` is rounded down to its
 * bucket, `until` (exclusive) up; by default the last 24 hours, or the last 30 days by day. Reads the rollup's rows
 * of the range (one per hour, with its types), through its primary key.
 */
statsRoutes.get("/events", async (c) => {
  const query = readQuery(c, eventStatsQuerySchema);
  const hoursPerBucket = query.bucket === "day" ? DAY_HOURS : 1;
  const bucketMs = hoursPerBucket * HOUR_MS;
  const maxBuckets = query.bucket === "day" ? MAX_DAY_BUCKETS : MAX_HOUR_BUCKETS;
  const until = query.until ?? Date.now();
  const toBucket = Math.ceil(until / bucketMs);
  const fromBucket = query.since !== undefined ? Math.floor(query.since / bucketMs) : toBucket - (query.bucket === "day" ? 30 : 24);
  if (fromBucket >= toBucket) throw new ApiError("bad_request", "since: must be earlier than until (by default, now)");
  if (toBucket - fromBucket > maxBuckets) {
    throw new ApiError("bad_request", `since: the range holds ${toBucket - fromBucket} ${query.bucket}s; at most ${maxBuckets}`);
  }
  const type = query.type;
  const rows = await eventCounts(c.env.DB, {
    fromHour: fromBucket * hoursPerBucket,
    toHour: toBucket * hoursPerBucket,
    bucket: query.bucket,
    ...(type === undefined ? {} : type.endsWith(".*") ? { prefix: type.slice(0, -1) } : { exact: type }),
  });
  const buckets = new Map<number, Array<{ eventType: string; count: number }>>();
  for (let b = fromBucket; b < toBucket; b++) buckets.set(b, []);
  const totals = new Map<string, number>();
  for (const row of rows) {
    buckets.get(row.bucket)?.push({ eventType: row.event_type, count: row.count });
    totals.set(row.event_type, (totals.get(row.event_type) ?? 0) + row.count);
  }
  const eventTypes = [...totals]
    .map(([eventType, count]) => ({ eventType, count }))
    .sort((a, b) => b.count - a.count || a.eventType.localeCompare(b.eventType));
  return c.json({
    bucket: query.bucket,
    since: iso(fromBucket * bucketMs),
    until: iso(toBucket * bucketMs),
    type: type ?? null,
    total: eventTypes.reduce((sum, t) => sum + t.count, 0),
    eventTypes,
    buckets: [...buckets].map(([b, counts]) => ({ start: iso(b * bucketMs), total: counts.reduce((sum, t) => sum + t.count, 0), counts })),
  });
});

/**
 * Per destination, for [since, until) (by default the last 24 hours, at most 7 days): successes — first attempts
 * of the batches that arrived in the window, and retried deliveries that succeeded in it — dead deliveries, the
 * share delivered of those finished (delivered / (delivered + dead)), and latency p50/p95 of successful attempts
 * (nearest rank, ms, over `sample` of them); retrying and waiting are the backlog now. What it reads:
 * src/storage/stats-deliveries.ts.
 */
statsRoutes.get("/deliveries", async (c) => {
  const query = readQuery(c, deliveryStatsQuerySchema);
  const until = query.until ?? Date.now();
  const since = query.since ?? until - DAY_HOURS * HOUR_MS;
  if (since >= until) throw new ApiError("bad_request", "since: must be earlier than until (by default, now)");
  if (until - since > MAX_DELIVERY_WINDOW_MS) throw new ApiError("bad_request", "since: the window is longer than 7 days");
  const rows = await deliveryStats(c.env.DB, { from: since, to: until, ...(query.destinationId ? { destinationId: query.destinationId } : {}) });
  if (query.destinationId !== undefined && rows.length === 0) {
    throw new ApiError("not_found", "No destination with this id, and no delivery history of one.");
  }
  return c.json({
    since: iso(since),
    until: iso(until),
    destinations: rows.map((r) => {
      const delivered = r.deliveredFirstAttempt + r.deliveredAfterRetry;
      return {
        destinationId: r.destinationId,
        destinationName: r.name,
        state: r.state,
        delivered,
        deliveredFirstAttempt: r.deliveredFirstAttempt,
        deliveredAfterRetry: r.deliveredAfterRetry,
        dead: r.dead,
        retrying: r.retrying,
        waiting: r.waiting,
        successRate: delivered + r.dead === 0 ? null : Math.round((delivered / (delivered + r.dead)) * 10_000) / 10_000,
        latencyMs: r.latency,
      };
    }),
  });
});

/** One type's inline figures as the API answers them (ISO time). */
export function inlineTypeStatsView(stats: InlineTypeStats) {
  const { oldestCall, ...figures } = stats;
  return { ...figures, oldestCall: oldestCall === null ? null : iso(oldestCall) };
}

/**
 * Per inline hook type (every type, or `type`), for [since, until) (by default the last 24 hours, at most 7 days):
 * calls, decisions, decided-by groups, fallbacks per reason and latency p50/p95/p99 (nearest rank, ms, over
 * `sample` calls), counted over each type's newest audit rows of the window: `complete` says whether that was all
 * of them. What it reads: src/storage/stats-inline.ts.
 */
statsRoutes.get("/inline", async (c) => {
  const query = readQuery(c, inlineStatsQuerySchema);
  const until = query.until ?? Date.now();
  const since = query.since ?? until - DAY_HOURS * HOUR_MS;
  if (since >= until) throw new ApiError("bad_request", "since: must be earlier than until (by default, now)");
  if (until - since > MAX_INLINE_WINDOW_MS) throw new ApiError("bad_request", "since: the window is longer than 7 days");
  const types = await inlineCallStats(c.env.DB, { from: since, to: until, ...(query.type && { type: query.type }) });
  return c.json({ since: iso(since), until: iso(until), types: types.map(inlineTypeStatsView) });
});
