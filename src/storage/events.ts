/**
 * The event store (migrations/0001, 0004 and 0010, docs/storage.md): plain functions over D1Database.
 *
 * storeDelivery writes a whole Okta delivery in ONE round trip (`db.batch`, one transaction): its events (their
 * columns), its batch row (what the envelope said, once), the batch's payload (every event's exact text, one after
 * another, compressed together later: ./payload-codec.ts, src/jobs/compact-payloads.ts) and — when some new event is to be forwarded — its outbox row. Each events
 * statement inserts many rows from a single bound JSON parameter through json_each, so D1's limit of 100 bound
 * parameters never applies; statements are split only by size. `ON CONFLICT DO NOTHING … RETURNING` makes it
 * idempotent and tells which events are new. A delivery too large for one payload row (D1 caps a row at 2 MB) is
 * stored as several batches, still in the one transaction.
 *
 * One row written per event (migrations/0010): `events` is keyed by the uuid and has no other index. What a
 * search or a fan-out needs to find events by is written once per batch: its uuid list (event_batches.uuids), its
 * types (batch_types) and its failed outcomes (batch_failures).
 *
 * How the statements find "this delivery's" rows without a round trip in between: D1 runs one transaction at a
 * time, so inside ours the next batch id is max(id) + 1 and the next event id is one past the newest batch's range;
 * an event of ours carries that batch id and the id of its position in the group. Once the batch row is inserted
 * (with the uuids of the events it stored), the later statements find it as the newest batch carrying the group's
 * random token. Retention must therefore never delete the newest batch, or an id could be handed out twice.
 *
 * The columns are computed in the Worker and the texts ride in one TEXT parameter, stored as a BLOB of their UTF-8
 * (./payload-codec.ts says why not a BLOB parameter): SQLite's JSON functions never parse an event, so an event
 * nested deeper than SQLite's JSON depth limit is stored like any other, and each payload reads back as Okta's exact
 * bytes.
 */
import type { IncomingEvent } from "../okta/event-hook";
import { BATCH_EVENTS } from "./batch-events";
import { allRows, firstRow } from "./d1";
import { BatchPayload, concatTexts, encodePayload, plainAsText, type StoredPayload } from "./payload-codec";
import { eventCountsStatement } from "./stats-events";

/** Largest JSON parameter of one insert statement, in UTF-16 code units (D1 caps a value at 2,000,000 bytes). */
const MAX_CHUNK_CHARS = 900_000;

/**
 * Most UTF-8 bytes of event text in one batch. Compressed, a batch is at most that plus a few bytes, and its
 * payload row must stay under D1's 2,000,000 bytes per row; Okta's deliveries are far smaller (1 MiB by default,
 * MAX_BODY_BYTES), so this splits only what an operator allowed to be larger.
 */
export const MAX_BATCH_TEXT_BYTES = 1_500_000;

/**
 * Most characters of a batch's uuid list (the JSON array in event_batches.uuids, also bound as one parameter of its
 * insert): under D1's 2,000,000 bytes per value and per row. Only a delivery of tens of thousands of tiny events
 * reaches it.
 */
export const MAX_BATCH_UUID_CHARS = 900_000;

/**
 * Most events in one batch. Search and retention read whole batches (about two D1 rows per event: its uuid in the
 * list, its row), so a page that stops inside a batch costs at most this many events more than its budget: a
 * delivery of 500 events stored as one batch would make every page over it read a thousand rows. Each batch more
 * costs its own few rows (its row and index entries, types, payload, outbox), a few per hundred events.
 */
export const MAX_BATCH_EVENTS = 100;

/**
 * Largest stored (compressed) payload row. A single event whose text does not compress under it cannot be stored:
 * it would fail the whole delivery's transaction every time, so Okta's one retry could never succeed.
 */
export const MAX_STORED_PAYLOAD_BYTES = 1_900_000;

/** events.forward: what was decided when the event arrived. */
export const FORWARD = { skip: 0, yes: 1, unrouted: 2 } as const;
export type ForwardFlag = (typeof FORWARD)[keyof typeof FORWARD];

export interface DeliveryMeta {
  oktaOrg: string | null;
  eventHookId: string | null;
  envelopeEventId: string | null;
  receivedAt: number;
  /** Per event (same order): forward it, never (loop guard), or no destination wanted it when it arrived. */
  forward: readonly ForwardFlag[];
  /**
   * The destinations version the "unrouted" decisions were made with (null: none were made). If D1's version
   * differs, the decisions may be stale and the batch goes to the outbox anyway: fan-out routes it afresh.
   */
  routingVersion: number | null;
}

/** An event too large for one D1 row; nothing of its delivery was written. */
export class EventTooLargeError extends Error {
  constructor(
    readonly index: number,
    readonly storedBytes: number,
  ) {
    super(`data.events[${index}] is too large to store (${storedBytes} bytes compressed; at most ${MAX_STORED_PAYLOAD_BYTES})`);
    this.name = "EventTooLargeError";
  }
}

/**
 * A group of the delivery's events stored as one batch: their indexes in the delivery, and the stored payload: the
 * texts themselves (bound as TEXT, cast to a BLOB by INSERT_PAYLOAD), or their compressed bytes.
 */
interface BatchGroup {
  indexes: number[];
  payload: string | Uint8Array;
  spans: Array<{ offset: number; bytes: number }>;
}

/**
 * Split the delivery into batches of at most MAX_BATCH_EVENTS events, MAX_BATCH_TEXT_BYTES of text and
 * MAX_BATCH_UUID_CHARS of uuid list (one, for a delivery of up to 100 events). The
 * payload is stored as plain UTF-8: compressing it here would cost the request more CPU than everything else it
 * does, so the scheduled compaction (src/jobs/compact-payloads.ts) compresses it minutes later. Only an event too
 * large to store plain is compressed on the spot.
 */
function groupEvents(events: readonly IncomingEvent[]): BatchGroup[] {
  const { utf8, spans } = concatTexts(events.map((e) => e.text));
  const groups: Array<{ indexes: number[]; from: number; to: number; uuidChars: number }> = [];
  for (const [index, span] of spans.entries()) {
    const last = groups.at(-1);
    const uuidChars = events[index]!.uuid.length + 3; // "uuid", in the JSON array
    if (
      last &&
      last.indexes.length < MAX_BATCH_EVENTS &&
      span.offset + span.bytes - last.from <= MAX_BATCH_TEXT_BYTES &&
      last.uuidChars + uuidChars <= MAX_BATCH_UUID_CHARS
    ) {
      last.indexes.push(index);
      last.to = span.offset + span.bytes;
      last.uuidChars += uuidChars;
    } else {
      groups.push({ indexes: [index], from: span.offset, to: span.offset + span.bytes, uuidChars: 2 + uuidChars });
    }
  }
  return groups.map(({ indexes, from, to }) => {
    const plain = utf8.subarray(from, to);
    let payload: string | Uint8Array;
    if (plain.byteLength <= MAX_STORED_PAYLOAD_BYTES) {
      payload = indexes.map((i) => events[i]!.text).join("");
    } else {
      payload = encodePayload(plain);
      if (payload.byteLength > MAX_STORED_PAYLOAD_BYTES) throw new EventTooLargeError(indexes[0]!, payload.byteLength);
    }
    return { indexes, payload, spans: indexes.map((i) => ({ offset: spans[i]!.offset - from, bytes: spans[i]!.bytes })) };
  });
}

/** Split a group's event columns into JSON arrays of rows, each under MAX_CHUNK_CHARS. */
function chunkRows(events: readonly IncomingEvent[], group: BatchGroup, forward: readonly ForwardFlag[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  group.indexes.forEach((index, k) => {
    const e = events[index]!;
    const row = JSON.stringify({
      u: e.uuid,
      i: k,
      t: e.eventType,
      p: e.published,
      a: e.actorId,
      aa: e.actorAlternateId,
      o: e.outcomeResult,
      s: e.severity,
      f: forward[index] ?? FORWARD.yes,
      po: group.spans[k]!.offset,
      pb: group.spans[k]!.bytes,
    });
    if (current.length > 0 && size + row.length + 1 > MAX_CHUNK_CHARS) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(row);
    size += row.length + 1;
  });
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

const NEXT_BATCH_ID = "(SELECT coalesce(max(id), 0) + 1 FROM event_batches)";
/**
 * The id of the next batch's first event: one past the newest batch's range (its events are ids first_event_id …
 * first_event_id + event_count − 1, with gaps where a duplicate took no id). It must read the same in every
 * statement of the transaction, before and after this group's events are in: so it is computed from the batches
 * alone, which is why retention never deletes the newest batch.
 */
const NEXT_EVENT_ID = "(SELECT coalesce((SELECT first_event_id + event_count FROM event_batches ORDER BY id DESC LIMIT 1), 1))";
const THIS_BATCH_ID = "(SELECT max(id) FROM event_batches)";
/** This group's batch row: the newest one, if it carries the group's random token (`?1` in the statements below). */
const THIS_BATCH = `event_batches b WHERE b.id = ${THIS_BATCH_ID} AND b.ingest_token = ?1`;

/**
 * Each event's id is the next batch's first id plus its position in the group (`i`): an event the delivery repeats,
 * or one already stored, takes no row and leaves its id unused.
 */
const INSERT_EVENTS = `
INSERT INTO events (uuid, id, event_type, published, actor_id, actor_alternate_id, outcome_result, severity, batch_id,
                    received_at, forward, payload_offset, payload_bytes)
SELECT value ->> '$.u', ${NEXT_EVENT_ID} + (value ->> '$.i'), value ->> '$.t', value ->> '$.p', value ->> '$.a',
       value ->> '$.aa', value ->> '$.o', value ->> '$.s', ${NEXT_BATCH_ID}, ?2, value ->> '$.f', value ->> '$.po',
       value ->> '$.pb'
FROM json_each(?1) WHERE true
ON CONFLICT (uuid) DO NOTHING
RETURNING id, uuid, forward`;

/**
 * The batch row, with the uuids of the events the group stored (`?7`: the group's uuids in order; an event is this
 * group's when it carries the next batch id and the id of its position). No row when the group stored nothing.
 */
const INSERT_BATCH = `
INSERT INTO event_batches (id, first_event_id, event_count, received_at, okta_org, event_hook_id, envelope_event_id,
                           ingest_token, uuids)
SELECT ${NEXT_BATCH_ID}, ${NEXT_EVENT_ID}, ?1, ?2, ?3, ?4, ?5, ?6, json_group_array(e.uuid)
FROM json_each(?7) j CROSS JOIN events e ON e.uuid = j.value
WHERE e.batch_id = ${NEXT_BATCH_ID} AND e.id = ${NEXT_EVENT_ID} + j.key
HAVING count(*) > 0`;

/** The batch's types and failed outcomes (migrations/0010): what search by type and by outcome walks. */
const INSERT_BATCH_TYPES = `
INSERT INTO batch_types (event_type, batch_id)
SELECT DISTINCT e.event_type, b.id FROM event_batches b CROSS JOIN ${BATCH_EVENTS}
WHERE b.id = ${THIS_BATCH_ID} AND b.ingest_token = ?1
ON CONFLICT DO NOTHING`;

const INSERT_BATCH_FAILURES = `
INSERT INTO batch_failures (outcome_result, batch_id)
SELECT DISTINCT e.outcome_result, b.id FROM event_batches b CROSS JOIN ${BATCH_EVENTS}
WHERE b.id = ${THIS_BATCH_ID} AND b.ingest_token = ?1 AND e.outcome_result IN ('FAILURE', 'DENY')
ON CONFLICT DO NOTHING`;

/**
 * The group's texts, stored when its batch row was: the newest batch row carries this group's random token. A
 * payload row left under this batch id by a batch that no longer exists (retention never deletes the newest batch,
 * but an operator's hand might) is replaced rather than fail every delivery from now on.
 */
const INSERT_PAYLOAD = `
INSERT INTO event_payloads (batch_id, data)
SELECT id, CAST(?2 AS BLOB) FROM event_batches WHERE id = ${THIS_BATCH_ID} AND ingest_token = ?1
ON CONFLICT (batch_id) DO UPDATE SET data = excluded.data`;

/**
 * Into the outbox when this group stored an event to forward, or one that was judged unrouted with a routing
 * version that is no longer current. "This group stored something" = the newest batch row carries this group's
 * random token (a redelivery inserts no batch row, and must not put the previous one back).
 */
const INSERT_OUTBOX = `
INSERT INTO forward_outbox (batch_id, created_at, enqueued_at)
SELECT b.id, ?2, ?2 FROM ${THIS_BATCH}
  AND EXISTS (SELECT 1 FROM ${BATCH_EVENTS}
              WHERE e.forward = 1 OR (e.forward = 2 AND ?3 IS NOT (SELECT value FROM gateway_meta WHERE key = 'destinations_version')))
ON CONFLICT (batch_id) DO NOTHING
RETURNING batch_id`;

/** A random 52-bit integer (exact in a double and in SQLite's INTEGER). */
function ingestToken(): number {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (high! & 0xfffff) * 2 ** 32 + low!;
}

/** A BLOB parameter: the bytes of `view` exactly (D1 binds an ArrayBuffer as a BLOB). */
function blob(view: Uint8Array): ArrayBuffer {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
    ? (view.buffer as ArrayBuffer)
    : (view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer);
}

export const DESTINATIONS_VERSION = "SELECT value FROM gateway_meta WHERE key = 'destinations_version'";

export interface StoreResult {
  /** uuids stored by this call, in delivery order (an event repeated inside the delivery counts once). */
  inserted: string[];
  /** How many of them are to be forwarded (not loop-guarded, not unrouted). */
  forwardable: number;
  /** The batches in the outbox, to enqueue (one, but for a delivery larger than one batch); empty: nothing to forward. */
  outboxBatchIds: number[];
  /** Events of the delivery that were already stored (or repeated within it). */
  duplicates: number;
  /** The destinations version D1 holds now (for the isolate's routing cache). */
  destinationsVersion: number | null;
}

/**
 * Store every event of one delivery, in one D1 round trip. Throws EventTooLargeError before writing anything when
 * an event cannot fit a D1 row, and D1's error when D1 fails (the caller answers 5xx).
 */
export async function storeDelivery(db: D1Database, events: readonly IncomingEvent[], meta: DeliveryMeta): Promise<StoreResult> {
  if (events.length === 0) return { inserted: [], forwardable: 0, outboxBatchIds: [], duplicates: 0, destinationsVersion: null };
  const statements: D1PreparedStatement[] = [];
  /** Per statement: what its result is. */
  const kinds: Array<"events" | "outbox" | "other"> = [];
  for (const group of groupEvents(events)) {
    const count = group.indexes.length;
    const token = ingestToken();
    for (const chunk of chunkRows(events, group, meta.forward)) {
      statements.push(db.prepare(INSERT_EVENTS).bind(chunk, meta.receivedAt));
      kinds.push("events");
    }
    const uuids = JSON.stringify(group.indexes.map((i) => events[i]!.uuid));
    statements.push(
      db.prepare(INSERT_BATCH).bind(count, meta.receivedAt, meta.oktaOrg, meta.eventHookId, meta.envelopeEventId, token, uuids),
      db.prepare(INSERT_BATCH_TYPES).bind(token),
      db.prepare(INSERT_BATCH_FAILURES).bind(token),
      eventCountsStatement(db, token, meta.receivedAt), // the stats rollup (./stats-events.ts)
      db.prepare(INSERT_PAYLOAD).bind(token, typeof group.payload === "string" ? group.payload : blob(group.payload)),
      db.prepare(INSERT_OUTBOX).bind(token, meta.receivedAt, meta.routingVersion),
    );
    kinds.push("other", "other", "other", "other", "other", "outbox");
  }
  statements.push(db.prepare(DESTINATIONS_VERSION));
  const results = await db.batch<Record<string, unknown>>(statements);
  const rows = results.flatMap((r, i) => (kinds[i] === "events" ? allRows<{ id: number; uuid: string; forward: number }>(r) : []));
  const outboxBatchIds = results.flatMap((r, i) => (kinds[i] === "outbox" ? allRows<{ batch_id: number }>(r).map((o) => o.batch_id) : []));
  const version = firstRow<{ value: number }>(results.at(-1));
  return {
    inserted: rows.map((row) => row.uuid),
    forwardable: rows.filter((row) => row.forward === FORWARD.yes).length,
    outboxBatchIds,
    duplicates: events.length - rows.length,
    destinationsVersion: version?.value ?? null,
  };
}

/** A stored event as read back: its columns, the envelope's facts from its batch, and its payload decoded. */
export interface StoredEvent {
  id: number;
  uuid: string;
  eventType: string;
  /** Epoch ms, or null when Okta sent none that could be read. */
  published: number | null;
  actorId: string | null;
  actorAlternateId: string | null;
  outcomeResult: string | null;
  severity: string | null;
  batchId: number | null;
  receivedAt: number;
  forward: ForwardFlag;
  oktaOrg: string | null;
  eventHookId: string | null;
  envelopeEventId: string | null;
  /** Okta's exact text of the event. */
  payload: string;
}

export interface EventRow {
  id: number;
  uuid: string;
  event_type: string;
  published: number | null;
  actor_id: string | null;
  actor_alternate_id: string | null;
  outcome_result: string | null;
  severity: string | null;
  batch_id: number | null;
  received_at: number;
  forward: number;
  payload_offset: number;
  payload_bytes: number;
  okta_org: string | null;
  event_hook_id: string | null;
  envelope_event_id: string | null;
  /** The batch's stored payload, when the statement joined it (getEventStatement). */
  payload_data?: StoredPayload | null;
}

/**
 * An event row with its text, from `payload` (its batch's, read once for all the batch's events) or from the
 * payload the row itself joined. Throws when the payload is missing or cannot be read (a corrupt row).
 */
export function toStoredEvent(row: EventRow, payload?: BatchPayload): StoredEvent {
  const source = payload ?? (row.payload_data ? new BatchPayload(row.payload_data) : undefined);
  if (!source) throw new Error(`the payload of batch ${row.batch_id} is not stored`);
  return {
    id: row.id,
    uuid: row.uuid,
    eventType: row.event_type,
    published: row.published,
    actorId: row.actor_id,
    actorAlternateId: row.actor_alternate_id,
    outcomeResult: row.outcome_result,
    severity: row.severity,
    batchId: row.batch_id,
    receivedAt: row.received_at,
    forward: row.forward as ForwardFlag,
    oktaOrg: row.okta_org,
    eventHookId: row.event_hook_id,
    envelopeEventId: row.envelope_event_id,
    payload: source.text({ offset: row.payload_offset, bytes: row.payload_bytes }),
  };
}

const EVENT_COLUMNS = `e.id, e.uuid, e.event_type, e.published, e.actor_id, e.actor_alternate_id, e.outcome_result, e.severity,
  e.batch_id, e.received_at, e.forward, e.payload_offset, e.payload_bytes, b.okta_org, b.event_hook_id, b.envelope_event_id`;

/** One event by uuid, with its batch's facts and payload (decoded by toStoredEvent). */
export function getEventStatement(db: D1Database, uuid: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${EVENT_COLUMNS}, ${plainAsText("p.data")} AS payload_data FROM events e
       LEFT JOIN event_batches b ON b.id = e.batch_id LEFT JOIN event_payloads p ON p.batch_id = e.batch_id
       WHERE e.uuid = ?1`,
    )
    .bind(uuid);
}

export async function getEvent(db: D1Database, uuid: string): Promise<StoredEvent | null> {
  const row = await getEventStatement(db, uuid).first<EventRow>();
  return row ? toStoredEvent(row) : null;
}

/** The events of one batch (through its uuid list: one lookup each), oldest first, without their texts. */
export function batchEventsStatement(db: D1Database, batchId: number): D1PreparedStatement {
  return db
    .prepare(`SELECT ${EVENT_COLUMNS} FROM event_batches b CROSS JOIN ${BATCH_EVENTS} WHERE b.id = ?1 ORDER BY e.id`)
    .bind(batchId);
}

/** The stored payload of one batch (one row read): every text of batchEventsStatement's events. */
export function batchPayloadStatement(db: D1Database, batchId: number): D1PreparedStatement {
  return db.prepare(`SELECT ${plainAsText("data")} AS data FROM event_payloads WHERE batch_id = ?1`).bind(batchId);
}

/**
 * Compaction: the payloads after batch `afterBatchId` (oldest first, at most `limit` rows), to compress those still
 * stored plain. Batch ids only grow, so a high-water mark says how far compaction got. A page also stops once the
 * payloads before a row hold `maxBytes` (sizes come from the rows' headers, without reading their data), so one page
 * holds at most `maxBytes` plus one batch (MAX_STORED_PAYLOAD_BYTES) however large the deliveries were: plain
 * payloads are read as text (up to two bytes of Worker memory per byte stored) and a BLOB as an array of numbers
 * (several), and 50 batches of 1 MB each would not fit a Worker's 128 MB. Each row says how many rows the page had before the byte bound (`page_rows`).
 */
export function payloadsAfterStatement(db: D1Database, afterBatchId: number, limit: number, maxBytes: number): D1PreparedStatement {
  return db
    .prepare(
      `WITH page AS (SELECT batch_id, length(data) AS bytes FROM event_payloads WHERE batch_id > ?1 ORDER BY batch_id LIMIT ?2),
            running AS (SELECT batch_id, sum(bytes) OVER (ORDER BY batch_id) - bytes AS before FROM page)
       SELECT p.batch_id, ${plainAsText("p.data")} AS data, (SELECT count(*) FROM page) AS page_rows FROM event_payloads p
       WHERE p.batch_id IN (SELECT batch_id FROM running WHERE before < ?3)
       ORDER BY p.batch_id`,
    )
    .bind(afterBatchId, limit, maxBytes);
}

/** Replace a batch's plain payload with its compressed form (the same texts, so a second writer changes nothing). */
export function replacePayloadStatement(db: D1Database, batchId: number, data: Uint8Array): D1PreparedStatement {
  return db.prepare("UPDATE event_payloads SET data = ?2 WHERE batch_id = ?1").bind(batchId, blob(data));
}

export const PAYLOADS_COMPACTED_THROUGH = "payloads_compacted_through";

/** How far compaction got (a batch id; 0 when it never ran). */
export function compactedThroughStatement(db: D1Database): D1PreparedStatement {
  return db.prepare("SELECT value FROM gateway_meta WHERE key = ?1").bind(PAYLOADS_COMPACTED_THROUGH);
}

export function setCompactedThroughStatement(db: D1Database, batchId: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO gateway_meta (key, value) VALUES (?1, ?2)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
    )
    .bind(PAYLOADS_COMPACTED_THROUGH, batchId);
}

/** A batch payload row as read, opened for its events (undefined when the batch has none stored). */
export function openBatchPayload(row: { data: StoredPayload } | undefined): BatchPayload | undefined {
  return row ? new BatchPayload(row.data) : undefined;
}

/**
 * Take the right to fan a batch out for `leaseMs`: only while it is in the outbox and nobody else holds it.
 * RETURNING no row means not taken (done already, or another consumer is at it).
 */
export function leaseOutboxStatement(db: D1Database, batchId: number, now: number, leaseMs: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE forward_outbox SET lease_until = ?2 + ?3
       WHERE batch_id = ?1 AND (lease_until IS NULL OR lease_until <= ?2)
       RETURNING batch_id`,
    )
    .bind(batchId, now, leaseMs);
}

/** The batch is fanned out: every outcome is recorded in the same transaction as this. */
export function deleteOutboxStatement(db: D1Database, batchId: number): D1PreparedStatement {
  return db.prepare("DELETE FROM forward_outbox WHERE batch_id = ?1").bind(batchId);
}

/** Give a batch back without fanning it out (the consumer failed): the next message or sweep takes it. */
export async function releaseOutbox(db: D1Database, batchId: number): Promise<void> {
  await db.prepare("UPDATE forward_outbox SET lease_until = NULL WHERE batch_id = ?1").bind(batchId).run();
}

/**
 * The producer's send of these batches to the queue failed (src/queue/enqueue-buffer.ts): the sweeper's next pass
 * takes them instead of waiting out the lost-message grace. One statement for them all (the ids as one JSON
 * parameter: D1 allows 100 bound parameters).
 */
export async function markOutboxNotEnqueued(db: D1Database, batchIds: readonly number[]): Promise<void> {
  if (batchIds.length === 0) return;
  await db
    .prepare("UPDATE forward_outbox SET enqueued_at = NULL WHERE batch_id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(batchIds))
    .run();
}

/**
 * These batches were just handed to a new queue message (a consumer could not start them in time): their
 * lost-message grace starts again now, so the sweeper does not send them a second time while that message waits.
 */
export async function markOutboxEnqueued(db: D1Database, batchIds: readonly number[], now: number): Promise<void> {
  if (batchIds.length === 0) return;
  await db
    .prepare("UPDATE forward_outbox SET enqueued_at = ?2 WHERE batch_id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(batchIds), now)
    .run();
}

/**
 * The sweeper's view of the outbox, oldest first, at most `limit`, marked enqueued now: batches never handed to the
 * queue (enqueued_at NULL) stored over `minAgeMs` ago, and batches handed to it over `lostAfterMs` ago that are
 * still here and not leased (their message was lost). Small: rows leave as soon as they are fanned out.
 */
export async function takeOutboxBatches(
  db: D1Database,
  now: number,
  minAgeMs: number,
  lostAfterMs: number,
  limit: number,
): Promise<number[]> {
  const { results } = await db
    .prepare(
      `UPDATE forward_outbox SET enqueued_at = ?1
       WHERE batch_id IN (SELECT batch_id FROM forward_outbox
                          WHERE (lease_until IS NULL OR lease_until <= ?1)
                            AND ((enqueued_at IS NULL AND created_at < ?1 - ?2) OR enqueued_at < ?1 - ?3)
                          ORDER BY batch_id LIMIT ?4)
       RETURNING batch_id`,
    )
    .bind(now, minAgeMs, lostAfterMs, limit)
    .all<{ batch_id: number }>();
  return results.map((r) => r.batch_id).sort((a, b) => a - b);
}

/** Whether the batch is still waiting in the outbox (for read models: "pending"). */
export function outboxHasStatement(db: D1Database, batchId: number | null): D1PreparedStatement {
  return db.prepare("SELECT batch_id FROM forward_outbox WHERE batch_id = ?1").bind(batchId);
}
