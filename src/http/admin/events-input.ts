/**
 * What the event search accepts (GET /admin/api/events) and the filter fields a replay shares with it, as zod
 * schemas: strict (an unknown parameter is a 400 naming it), each field checked with a message that says what is
 * expected. The parsed query becomes the storage layer's EventFilter (src/storage/event-search.ts).
 */
import * as z from "zod";
import { FORWARD_STATES, type EventFilter, type ForwardState } from "../../storage/event-search";

/** An exact event type, a prefix ending in `.*`, or `*` (Okta's types: letters, digits, `.`, `_`, `-`). */
export const eventTypeSelector = z
  .string()
  .regex(/^(?:\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\.\*)?)$/, 'must be an event type ("user.session.start"), a prefix ("user.lifecycle.*") or "*"')
  .max(200, "must be at most 200 characters");

/**
 * Whether the date and time of day exist as written: Date.parse rolls "2026-02-31" over to March 3 and "T24:00" to
 * the next day, which would silently shift a search or a replay's range (the stats routes already refuse them).
 */
function isCalendarTime(text: string): boolean {
  const [, year, month, day, hour, minute] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text)!.map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59;
}

/** An instant in ISO 8601 with a time zone (`2026-11-24T10:00:00Z`), as epoch ms. */
export const isoInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/, "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-24T10:00:00Z")
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms) || !isCalendarTime(text)) {
      ctx.addIssue({ code: "custom", message: "is not a valid date-time" });
      return z.NEVER;
    }
    return ms;
  });

export const timeField = z.enum(["published", "received"], { error: 'must be "published" or "received"' });

const shortText = (what: string) => z.string().min(1, `must be a non-empty ${what}`).max(256, "must be at most 256 characters");

/** Okta's outcome results are upper-case words (SUCCESS, FAILURE, DENY, ALLOW, CHALLENGE, SKIPPED, UNKNOWN). */
export const outcomeResult = z
  .string()
  .regex(/^[A-Za-z_]{1,32}$/, "must be an outcome result such as SUCCESS, FAILURE or DENY")
  .transform((s) => s.toUpperCase());

/** The filter fields events can be selected by, in a query string or a JSON body. */
export const eventSelectionFields = {
  type: eventTypeSelector.optional(),
  since: isoInstant.optional(),
  until: isoInstant.optional(),
  timeField: timeField.optional(),
  actor: shortText("actor id or alternateId").optional(),
  outcome: outcomeResult.optional(),
  org: shortText("Okta org host, e.g. acme.okta.com").optional(),
};

/** A page size from a query string. */
const pageLimit = z
  .string()
  .regex(/^\d{1,3}$/, "must be an integer from 1 to 200")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be an integer from 1 to 200").max(200, "must be an integer from 1 to 200"));

/** Cursors are opaque to clients: what a previous page answered as `nextCursor`. */
export const eventCursor = z.string().regex(/^[1-9]\d{0,15}$/, "must be a nextCursor value from a previous page").transform(Number);

export const eventSearchQuerySchema = z
  .strictObject({
    ...eventSelectionFields,
    target: shortText("target id").optional(),
    forward: z
      .string()
      .transform((s) => s.split(","))
      .pipe(z.array(z.enum(FORWARD_STATES as [ForwardState, ...ForwardState[]], { error: `must be ${FORWARD_STATES.join(", ")} (comma-separated)` })))
      .optional(),
    limit: pageLimit.default(50),
    cursor: eventCursor.optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, { message: "must be after since", path: ["until"] });
export type EventSearchQuery = z.infer<typeof eventSearchQuerySchema>;

/** The selection fields as the storage layer's filter. */
export function toEventFilter(q: {
  type?: string;
  since?: number;
  until?: number;
  timeField?: "published" | "received";
  actor?: string;
  outcome?: string;
  org?: string;
  target?: string;
  forward?: ForwardState[];
}): EventFilter {
  const filter: EventFilter = {};
  if (q.type !== undefined && q.type !== "*") filter.type = q.type;
  if (q.actor !== undefined) filter.actor = q.actor;
  if (q.outcome !== undefined) filter.outcome = q.outcome;
  if (q.org !== undefined) filter.org = q.org;
  if (q.target !== undefined) filter.targetId = q.target;
  if (q.forward !== undefined) filter.forward = [...new Set(q.forward)];
  if (q.since !== undefined || q.until !== undefined) {
    filter.time = { field: q.timeField ?? "published", ...(q.since !== undefined && { since: q.since }), ...(q.until !== undefined && { until: q.until }) };
  }
  return filter;
}
