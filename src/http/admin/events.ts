/**
 * /admin/api/events (docs/forwarding.md "Finding events"):
 * - GET /            search, newest first: filters in src/http/admin/events-input.ts, keyset pages that stay
 *                    correct while events arrive, a bounded number of D1 rows read per page
 *                    (src/storage/event-search.ts). A page may be short while more match: follow `nextCursor`
 *                    until it is null.
 * - GET /{uuid}      one event: its columns, Okta's exact payload, and where it went (every delivery and attempt);
 * - GET /{uuid}/deliveries  only where it went.
 * The deliveries read model lives in ./event-deliveries-view.ts; replays are started from /admin/api/replays.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors";
import { firstRow } from "../../storage/d1";
import { searchEvents } from "../../storage/event-search";
import { getEventStatement, toStoredEvent, type EventRow } from "../../storage/events";
import type { AppEnv } from "../types";
import { readValidatedQuery } from "../validated-query";
import { eventDeliveriesView } from "./event-deliveries-view";
import { eventSearchQuerySchema, toEventFilter } from "./events-input";
import { eventSummaryView } from "./event-view";

export const eventRoutes = new Hono<AppEnv>();

eventRoutes.get("/", async (c) => {
  const query = readValidatedQuery(c.req.url, eventSearchQuerySchema);
  const result = await searchEvents(c.env.DB, toEventFilter(query), { before: query.cursor ?? null, limit: query.limit });
  c.var.logFields.found = result.events.length;
  return c.json({
    events: result.events.map(eventSummaryView),
    nextCursor: result.nextBefore === null ? null : String(result.nextBefore),
  });
});

/** Longest uuid looked up (valid ones are at most 128 characters; older rows may hold others, src/okta/event-hook.ts). */
const MAX_UUID_CHARS = 200;

/** The stored row of an event, or 404. */
async function findEventRow(db: D1Database, uuid: string): Promise<EventRow> {
  const row = uuid.length <= MAX_UUID_CHARS ? firstRow<EventRow>(await getEventStatement(db, uuid).all()) : undefined;
  if (!row) throw new ApiError("not_found", "No stored event with this uuid.");
  return row;
}

const eventOf = (row: EventRow) => ({ id: row.id, uuid: row.uuid, batchId: row.batch_id, forward: row.forward });

eventRoutes.get("/:uuid", async (c) => {
  const row = await findEventRow(c.env.DB, c.req.param("uuid"));
  const { forwardState, deliveries } = await eventDeliveriesView(c.env.DB, eventOf(row));
  let payload: string | null = null;
  try {
    payload = toStoredEvent(row).payload;
  } catch {
    c.var.logFields.problem = "stored payload cannot be read";
  }
  const head = {
    ...eventSummaryView({
      id: row.id,
      uuid: row.uuid,
      eventType: row.event_type,
      published: row.published,
      receivedAt: row.received_at,
      actorId: row.actor_id,
      actorAlternateId: row.actor_alternate_id,
      outcomeResult: row.outcome_result,
      severity: row.severity,
      batchId: row.batch_id,
      forward: row.forward,
      oktaOrg: row.okta_org,
      eventHookId: row.event_hook_id,
      forwardState,
    }),
    eventHookId: row.event_hook_id,
    envelopeEventId: row.envelope_event_id,
  };
  // Okta's exact bytes, spliced in rather than parsed and re-serialised (1e400 and 23-digit integers survive).
  const text = JSON.stringify(head).slice(0, -1) + `,"payload":${payload ?? "null"},"deliveries":${JSON.stringify(deliveries)}}`;
  return c.body(text, 200, { "content-type": "application/json; charset=UTF-8" });
});

eventRoutes.get("/:uuid/deliveries", async (c) => {
  const row = await findEventRow(c.env.DB, c.req.param("uuid"));
  const view = await eventDeliveriesView(c.env.DB, eventOf(row));
  return c.json({ eventUuid: row.uuid, eventType: row.event_type, ...view });
});
