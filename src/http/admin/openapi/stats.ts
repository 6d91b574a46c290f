/** The OpenAPI description of /admin/api/stats (src/http/admin/stats.ts; docs/operations.md "Stats"). */
import * as z from "zod";
import { STATS_ROWS_PER_TYPE } from "../../../storage/stats-inline";
import { FALLBACK_REASONS } from "../inline-calls-input";
import {
  deliveryStatsQuerySchema,
  eventStatsQuerySchema,
  inlineStatsQuerySchema,
  MAX_DAY_BUCKETS,
  MAX_HOUR_BUCKETS,
  statsOverviewQuerySchema,
  type inlineTypeStatsView,
} from "../stats";
import { count, isoTime } from "./common";
import type { Assert, RouteDescription, Same } from "./describe";
import { inlineHookType } from "./inline-calls";

const typeCount = z.object({ eventType: z.string(), count });

const overview = z
  .object({
    d1: z.object({
      sizeBytes: count.nullable(),
      limitBytes: count.describe("D1_SIZE_LIMIT_MB."),
      usedPercent: z.number().nullable(),
    }),
    events: z.object({ oldestReceivedAt: isoTime.nullable(), newestReceivedAt: isoTime.nullable(), receivedLast24Hours: count }),
    outbox: z.object({ batches: count.describe("Okta deliveries stored but not yet fanned out."), oldestCreatedAt: isoTime.nullable() }),
    retention: z.object({
      eventDays: count,
      deadLetterDays: count,
      inlineCallDays: count,
      statsDays: count,
      archive: z.boolean().describe("Whether purged events are archived to R2 first (the ARCHIVE binding)."),
    }),
  })
  .meta({ id: "StatsOverview" });

const eventStats = z
  .object({
    bucket: z.enum(["hour", "day"]),
    since: isoTime,
    until: isoTime,
    type: z.string().nullable(),
    total: count,
    eventTypes: z.array(typeCount).describe("Totals per type, most first."),
    buckets: z.array(z.object({ start: isoTime, total: count, counts: z.array(typeCount) })),
  })
  .meta({ id: "EventStats" });

const deliveryStats = z
  .object({
    since: isoTime,
    until: isoTime,
    destinations: z.array(
      z.object({
        destinationId: z.string(),
        destinationName: z.string().nullable().describe("Null when the destination was deleted."),
        state: z.string().nullable(),
        delivered: count,
        deliveredFirstAttempt: count,
        deliveredAfterRetry: count,
        dead: count,
        retrying: count.describe("Now: pending or failed with a retry scheduled."),
        waiting: count.describe("Now: held while the destination is paused or disabled."),
        successRate: z.number().min(0).max(1).nullable().describe("delivered / (delivered + dead); null when neither."),
        latencyMs: z
          .object({ p50: count, p95: count, sample: count.describe("Successful attempts the percentiles are over.") })
          .nullable(),
      }),
    ),
  })
  .meta({ id: "DeliveryStats" });

const inlineTypeStats = z
  .object({
    type: inlineHookType,
    calls: count.describe("Calls counted: all of the window's when `complete`, else those of the type's newest audit rows in it."),
    complete: z.boolean().describe(`False when the window holds more than ${STATS_ROWS_PER_TYPE} audit rows of the type: the figures are over its newest ${STATS_ROWS_PER_TYPE} (up to 100 calls each), back to \`oldestCall\`.`),
    oldestCall: isoTime.nullable().describe("The oldest call counted; null without calls."),
    decisions: z.array(z.object({ decision: z.string(), count })).describe("Calls per decision, most first."),
    decidedBy: z.array(z.object({ group: z.string(), count })).describe("Calls per `decidedBy` up to its first `:` (rules, handler, default, fallback, repeat), most first."),
    fallbacks: z.array(z.object({ reason: z.string(), count })).describe(`Fallback answers per reason (${FALLBACK_REASONS.join(", ")}), most first.`),
    latencyMs: z
      .object({ p50: count, p95: count, p99: count, sample: count.describe("Calls the percentiles are over.") })
      .nullable()
      .describe("Nearest rank, ms from arrival to answer; null without calls."),
  })
  .meta({ id: "InlineTypeStats" });
export type InlineTypeStatsDescribed = Assert<Same<z.output<typeof inlineTypeStats>, ReturnType<typeof inlineTypeStatsView>>>;

const inlineStats = z.object({ since: isoTime, until: isoTime, types: z.array(inlineTypeStats) }).meta({ id: "InlineStats" });

const window = { since: "ISO 8601 date-time.", until: "ISO 8601 date-time, exclusive (default: now)." };

export const statsRouteDescriptions: RouteDescription[] = [
  {
    method: "get",
    path: "/admin/api/stats",
    operationId: "getStats",
    tag: "Stats",
    summary: "D1 size, stored range, outbox and retention",
    query: { schema: statsOverviewQuerySchema, errorCode: "bad_request" },
    responses: { 200: { description: "The overview.", schema: overview } },
  },
  {
    method: "get",
    path: "/admin/api/stats/events",
    operationId: "getEventStats",
    tag: "Stats",
    summary: "Events received per hour or day and type",
    description: `Buckets aligned to UTC; by default the last 24 hours (or 30 days by day); at most ${MAX_HOUR_BUCKETS} hours or ${MAX_DAY_BUCKETS} days.`,
    query: {
      schema: eventStatsQuerySchema,
      descriptions: { bucket: "`hour` (default) or `day`.", ...window, type: "An event type or a prefix pattern (`user.session.*`)." },
      errorCode: "bad_request",
    },
    responses: { 200: { description: "The counts.", schema: eventStats } },
  },
  {
    method: "get",
    path: "/admin/api/stats/deliveries",
    operationId: "getDeliveryStats",
    tag: "Stats",
    summary: "Deliveries per destination",
    description: "For [since, until): by default the last 24 hours, at most 7 days.",
    query: { schema: deliveryStatsQuerySchema, descriptions: { ...window, destinationId: "Only this destination." }, errorCode: "bad_request" },
    responses: { 200: { description: "Per destination.", schema: deliveryStats } },
    errors: ["not_found"],
    errorNotes: { not_found: "No destination with this id, and no delivery history of one." },
  },
  {
    method: "get",
    path: "/admin/api/stats/inline",
    operationId: "getInlineStats",
    tag: "Stats",
    summary: "Inline hook decisions and latency per type",
    description: `For [since, until): by default the last 24 hours, at most 7 days; every type, or one. Counted over each type's newest ${STATS_ROWS_PER_TYPE} audit rows of the window (\`complete\` says whether that was all of them).`,
    query: { schema: inlineStatsQuerySchema, descriptions: { ...window, type: "Only this inline hook type." }, errorCode: "bad_request" },
    responses: { 200: { description: "Per inline hook type.", schema: inlineStats } },
  },
];
