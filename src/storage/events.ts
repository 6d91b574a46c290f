/**
 * The event store (table `events`, migrations/0001_events.sql): plain functions over D1Database.
 *
 * storeEvents writes a whole delivery in ONE round trip (`db.batch`, one transaction) however many events it
 * holds: each statement inserts many rows from a single bound JSON parameter through json_each, so D1's limit of
 * 100 bound parameters per statement never applies, and statements are split only by size (D1 caps a bound value
 * at 2 MB). `ON CONFLICT DO NOTHING … RETURNING uuid` makes it idempotent and tells which events are new.
 *
 * The columns are computed in the Worker and each event's text rides in the parameter as a JSON *string*: SQLite's
 * JSON functions never parse an event, so an event nested deeper than SQLite's JSON depth limit (1,000) is stored
 * like any other, and the payload column holds Okta's exact bytes.
 */
import { MAX_EVENT_BYTES, type IncomingEvent } from "../okta/event-hook";

/** Largest JSON parameter of one insert statement, in UTF-16 code units (D1 caps a value at 2,000,000 bytes). */
const MAX_CHUNK_CHARS = 400_000;

export interface DeliveryMeta {
  oktaOrg: string | null;
  eventHookId: string | null;
  envelopeEventId: string | null;
  receivedAt: number;
  /** Loop guard: events whose actor.id is listed are stored with forward_state 'skipped' and never forwarded. */
  ignoreActorIds: ReadonlySet<string>;
}

const INSERT_EVENTS = `
INSERT INTO events (uuid, event_type, published, actor_id, actor_alternate_id, outcome_result, severity,
                    okta_org, event_hook_id, envelope_event_id, received_at, forward_state, payload)
SELECT value ->> '$.u', value ->> '$.t', value ->> '$.p', value ->> '$.a', value ->> '$.aa', value ->> '$.o',
       value ->> '$.s', ?2, ?3, ?4, ?5, value ->> '$.f', value ->> '$.x'
FROM json_each(?1) WHERE true
ON CONFLICT (uuid) DO NOTHING
RETURNING rowid, uuid, forward_state`;

/** An event too large for one D1 row (MAX_EVENT_BYTES); nothing of its delivery was written. */
export class EventTooLargeError extends Error {
  constructor(readonly index: number) {
    super(`data.events[${index}] is larger than ${MAX_EVENT_BYTES} bytes`);
    this.name = "EventTooLargeError";
  }
}

const utf8 = new TextEncoder();

/** Split `events` into JSON arrays of rows, each under MAX_CHUNK_CHARS (a single huge event is its own chunk). */
function chunkRows(events: readonly IncomingEvent[], ignoreActorIds: ReadonlySet<string>): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const [index, e] of events.entries()) {
    // A UTF-16 unit is at most 3 UTF-8 bytes: only events that could be too large are measured.
    if (e.text.length * 3 > MAX_EVENT_BYTES && utf8.encode(e.text).byteLength > MAX_EVENT_BYTES) throw new EventTooLargeError(index);
    const forward = e.actorId !== null && ignoreActorIds.has(e.actorId) ? "skipped" : "pending";
    const row = JSON.stringify({
      u: e.uuid,
      t: e.eventType,
      p: e.published,
      a: e.actorId,
      aa: e.actorAlternateId,
      o: e.outcomeResult,
      s: e.severity,
      f: forward,
      x: e.text,
    });
    if (current.length > 0 && size + row.length + 1 > MAX_CHUNK_CHARS) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(row);
    size += row.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

export interface StoreResult {
  /** uuids stored by this call, in delivery order (an event repeated inside the delivery counts once). */
  inserted: string[];
  /** The inserted events to forward (rowid and uuid): all of `inserted` except those the loop guard skipped. */
  toForward: StoredEvent[];
  /** Events of the delivery that were already stored (or repeated within it). */
  duplicates: number;
}

/**
 * Store every event of one delivery, in one D1 round trip. Throws EventTooLargeError before writing anything when
 * an event cannot fit a D1 row, and D1's error when D1 fails (the caller answers 5xx).
 */
export async function storeEvents(db: D1Database, events: readonly IncomingEvent[], meta: DeliveryMeta): Promise<StoreResult> {
  if (events.length === 0) return { inserted: [], toForward: [], duplicates: 0 };
  const statements = chunkRows(events, meta.ignoreActorIds).map((chunk) =>
    db.prepare(INSERT_EVENTS).bind(chunk, meta.oktaOrg, meta.eventHookId, meta.envelopeEventId, meta.receivedAt),
  );
  const results = await db.batch<{ rowid: number; uuid: string; forward_state: string }>(statements);
  const rows = results.flatMap((r) => r.results);
  return {
    inserted: rows.map((row) => row.uuid),
    toForward: rows.filter((row) => row.forward_state === "pending").map((row) => ({ rowid: row.rowid, uuid: row.uuid })),
    duplicates: events.length - rows.length,
  };
}

export interface EventRow {
  uuid: string;
  event_type: string;
  published: string | null;
  actor_id: string | null;
  actor_alternate_id: string | null;
  outcome_result: string | null;
  severity: string | null;
  okta_org: string | null;
  event_hook_id: string | null;
  envelope_event_id: string | null;
  received_at: number;
  forward_state: "pending" | "enqueued" | "fanned_out" | "skipped";
  enqueued_at: number | null;
  payload: string;
}

export function getEventStatement(db: D1Database, uuid: string): D1PreparedStatement {
  return db.prepare("SELECT * FROM events WHERE uuid = ?1").bind(uuid);
}

export async function getEvent(db: D1Database, uuid: string): Promise<EventRow | null> {
  return getEventStatement(db, uuid).first<EventRow>();
}

/** A stored event as forwarding handles it: its rowid (to update it whatever its uuid holds) and its uuid. */
export interface StoredEvent {
  rowid: number;
  uuid: string;
}

/**
 * Events handed to the queue more than `olderThanMs` ago whose fan-out never happened: their message was lost
 * (local queues live in memory; a consumer can die between receiving and acknowledging).
 */
export async function listUnfannedEvents(db: D1Database, now: number, olderThanMs: number, limit: number): Promise<StoredEvent[]> {
  const { results } = await db
    .prepare(`SELECT rowid, uuid FROM events WHERE forward_state = 'enqueued' AND enqueued_at < ?1 - ?2 ORDER BY enqueued_at LIMIT ?3`)
    .bind(now, olderThanMs, limit)
    .all<StoredEvent>();
  return results;
}

/**
 * Record that these events were handed to the forward queue (only those still pending). By rowid, never by uuid: a
 * uuid stored before identifiers were validated may not read back as it was written (a lone surrogate becomes
 * U+FFFD), and an update keyed on it would match nothing, leaving the row first in line for every later sweep.
 */
export async function markEnqueuedRows(db: D1Database, rowids: readonly number[], now: number): Promise<void> {
  if (rowids.length === 0) return;
  await db
    .prepare(
      `UPDATE events SET forward_state = 'enqueued', enqueued_at = ?2
       WHERE forward_state = 'pending' AND rowid IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(rowids), now)
    .run();
}

/** Restart the clock of events the sweeper handed to the queue again (by rowid, see markEnqueuedRows). */
export async function touchEnqueuedRows(db: D1Database, rowids: readonly number[], now: number): Promise<void> {
  if (rowids.length === 0) return;
  await db
    .prepare(`UPDATE events SET enqueued_at = ?2 WHERE forward_state = 'enqueued' AND rowid IN (SELECT value FROM json_each(?1))`)
    .bind(JSON.stringify(rowids), now)
    .run();
}

/**
 * Take events that can never be forwarded out of the sweeper's way, in one transaction: an event-level dead
 * letter (destination '') with the reason, and forward_state 'skipped'. The uuid is copied inside SQL, so its
 * stored bytes are kept whatever they are.
 */
export async function setAsideUnforwardable(db: D1Database, rowids: readonly number[], reason: string, now: number): Promise<void> {
  if (rowids.length === 0) return;
  const ids = JSON.stringify(rowids);
  await db.batch([
    db
      .prepare(
        `INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at)
         SELECT uuid, '', ?2, 0, ?3 FROM events WHERE rowid IN (SELECT value FROM json_each(?1))
         ON CONFLICT (event_uuid, destination_id) DO NOTHING`,
      )
      .bind(ids, reason, now),
    db
      .prepare(`UPDATE events SET forward_state = 'skipped' WHERE forward_state IN ('pending', 'enqueued') AND rowid IN (SELECT value FROM json_each(?1))`)
      .bind(ids),
  ]);
}

/** The statement that records an event's fan-out as done (its deliveries exist), from pending or enqueued. */
export function markFannedOutStatement(db: D1Database, uuid: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE events SET forward_state = 'fanned_out', enqueued_at = coalesce(enqueued_at, ?2)
       WHERE uuid = ?1 AND forward_state IN ('pending', 'enqueued')`,
    )
    .bind(uuid, now);
}

/** The outbox: events stored more than `olderThanMs` ago and still 'pending', oldest first, at most `limit`. */
export async function listOutboxEvents(db: D1Database, now: number, olderThanMs: number, limit: number): Promise<StoredEvent[]> {
  const { results } = await db
    .prepare(
      `SELECT rowid, uuid FROM events WHERE forward_state = 'pending' AND received_at < ?1 - ?2 ORDER BY received_at LIMIT ?3`,
    )
    .bind(now, olderThanMs, limit)
    .all<StoredEvent>();
  return results;
}
