/**
 * Retention's statements (docs/operations.md "Retention"): finding events old enough to purge and deleting them
 * with everything that only describes them, and the simpler age-based purges of other tables. The job that runs
 * them in bounded rounds, with the archive in between, is src/jobs/retention.ts.
 *
 * Events are reached through their batches, never by a scan of `events` (migrations/0010: it is keyed by uuid and
 * has no other index, so any condition on events.id alone reads the whole table). "Received before the cutoff" is
 * a range of batch ids: below the first batch that arrived at or after the cutoff (found through the
 * event_batches_received index), filtered exactly on the batch's received_at, which its events carry. A page walks
 * that range in batch id order from a cursor (a batch id and the last event id taken in it), and each batch's
 * events through its uuid list — one primary-key lookup per event. Ids grow with arrival across batches and within
 * one, so pages go oldest event first and the archive's id ranges stay what they were.
 *
 * What one page reads (D1 rows_read): the batch rows from the cursor to the page's last batch (with the outbox's
 * primary key for each: a batch still in the outbox is skipped without reading its events), the events those
 * batches list (the held ones as well as the purgeable, each with its holds' lookups: D1 counts each uuid json_each
 * returns, each row and each index probe, ~6 rows per event in all), and the rest of the last batch (the page is cut
 * inside a batch after sorting that batch's events by id; the next page starts in that batch again). So a run reads
 * the held backlog once, its pages, and one batch more per page — never the young events or the table — and held
 * events never stop the purge behind them.
 *
 * The newest batch is never purged, row or events, whatever its age: the next batch id is max(id) + 1 and the next
 * event id follows its range (src/storage/events.ts), so deleting it would let a later delivery reuse its ids —
 * which search's cursors, replay ranges and the archive's object names rely on never happening.
 *
 * Deleting is one transaction per page: the events (holds checked again), then what describes only deleted events
 * — their deliveries (delivered or dead, as the holds guarantee) and attempts, their batch rows once no event of
 * the batch is left (and not in the outbox, and not the newest), the (type, batch) and (outcome, batch) entries no
 * event left carries, and the gone batches' payloads and first-attempt records. A batch that keeps some events
 * (held) gets its uuid list rewritten to those it still stores (one row written): a uuid purged may be stored again
 * later by a new delivery (Okta resending it, an import), and a stale list would then show that new event as part of
 * the old batch to search, fan-out and this purge; and the held batch is read again by every later page, which
 * then looks up only the events it still holds. Every deleted row and index entry is a row written, as D1 bills it:
 * one per event (the table has no index), plus its deliveries, plus a few per batch.
 */
import { BATCH_EVENTS } from "./batch-events";
import { BatchPayload } from "./payload-codec";
import { allRows } from "./d1";
import { notHeld } from "./retention-holds";
import { HOUR_MS } from "./stats-events";

/** An event retention may purge, with what its archive line says about it. */
export interface PurgeCandidate {
  id: number;
  uuid: string;
  eventType: string;
  /** LogEvent.outcome.result: a FAILURE or DENY event has its batch's entry in batch_failures. */
  outcomeResult: string | null;
  receivedAt: number;
  batchId: number;
  oktaOrg: string | null;
  eventHookId: string | null;
  envelopeEventId: string | null;
  /** UTF-8 bytes of the event's text (what a page holds in memory, as text and in its archive). */
  bytes: number;
  /**
   * Okta's exact text of the event, or — when its batch's stored payload cannot be read (a corrupt row) — what is
   * stored: the batch's payload bytes and where the event is in it, so an archive keeps them rather than lose them.
   */
  content: { text: string } | { storedPayload: Uint8Array; offset: number; bytes: number };
}

interface CandidateRow {
  id: number;
  uuid: string;
  event_type: string;
  outcome_result: string | null;
  received_at: number;
  batch_id: number;
  payload_offset: number;
  payload_bytes: number;
  okta_org: string | null;
  event_hook_id: string | null;
  envelope_event_id: string | null;
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

const EACH = "SELECT value FROM json_each(?1)";


/**
 * The exclusive upper batch id of the events that may be purged for `cutoff` (epoch ms): never above the newest
 * batch's id (so never the newest batch), and below the first batch that arrived at or after the cutoff. Null: no
 * batches at all. Reads two rows (max(id) of event_batches' primary key, one entry of event_batches_received).
 */
export async function purgeBound(db: D1Database, cutoff: number): Promise<number | null> {
  const row = await db
    .prepare(
      `SELECT (SELECT max(id) FROM event_batches) AS newest,
              (SELECT id FROM event_batches WHERE received_at >= ?1 ORDER BY received_at LIMIT 1) AS first_recent`,
    )
    .bind(cutoff)
    .first<{ newest: number | null; first_recent: number | null }>();
  if (row?.newest == null) return null;
  return row.first_recent == null ? row.newest : Math.min(row.newest, row.first_recent);
}

/** Where a purge continues: at batch `batchId`, with its events after id `afterId` (the start: both 0). */
export interface PurgeCursor {
  batchId: number;
  afterId: number;
}

export const PURGE_START: PurgeCursor = { batchId: 0, afterId: 0 };

/** The cursor after a page: at its last event's batch, after that event. */
export function cursorAfter(candidates: readonly PurgeCandidate[], previous: PurgeCursor): PurgeCursor {
  const last = candidates.at(-1);
  return last ? { batchId: last.batchId, afterId: last.id } : previous;
}

/**
 * Up to `limit` purgeable events after `cursor` in batches below `bound`, received before `cutoff`, oldest first:
 * none held, each with its text from its batch's payload (read once per batch; as hex, which D1 returns far more
 * compactly than a BLOB's array of numbers). With `maxBytes`, no event is taken once those before it hold that many
 * bytes of text (the first always is): a page of large events must fit a Worker's memory, as hex, as text and as its
 * archive. The caller knows the page was cut when its events hold `maxBytes` or more.
 *
 * `ORDER BY b.id, e.id`: the batches come in primary-key order and SQLite sorts only each batch's events (its plan:
 * "USE TEMP B-TREE FOR LAST TERM OF ORDER BY"), so LIMIT stops the walk at the page's last batch instead of reading
 * the whole range first.
 */
export async function purgeCandidates(
  db: D1Database,
  range: { cursor: PurgeCursor; bound: number; cutoff: number; limit: number; maxBytes?: number },
): Promise<PurgeCandidate[]> {
  const result = await db
    .prepare(
      `SELECT e.id, e.uuid, e.event_type, e.outcome_result, e.received_at, e.batch_id, e.payload_offset, e.payload_bytes,
              b.okta_org, b.event_hook_id, b.envelope_event_id
       FROM event_batches b CROSS JOIN ${BATCH_EVENTS}
       WHERE b.id >= ?1 AND b.id < ?2 AND b.received_at < ?3
         AND NOT EXISTS (SELECT 1 FROM forward_outbox o WHERE o.batch_id = b.id)
         AND e.id > ?4 AND ${notHeld("e")}
       ORDER BY b.id, e.id LIMIT ?5`,
    )
    .bind(range.cursor.batchId, range.bound, range.cutoff, range.cursor.afterId, range.limit)
    .all<CandidateRow>();
  const rows: CandidateRow[] = [];
  let bytesBefore = 0;
  for (const row of allRows<CandidateRow>(result)) {
    if (rows.length > 0 && range.maxBytes !== undefined && bytesBefore >= range.maxBytes) break;
    rows.push(row);
    bytesBefore += row.payload_bytes;
  }
  const batchIds = [...new Set(rows.map((r) => r.batch_id))];
  const payloads = new Map<number, Uint8Array>();
  if (batchIds.length > 0) {
    const read = await db
      .prepare(`SELECT batch_id, hex(data) AS data_hex FROM event_payloads WHERE batch_id IN (${EACH})`)
      .bind(JSON.stringify(batchIds))
      .all<{ batch_id: number; data_hex: string }>();
    for (const p of allRows<{ batch_id: number; data_hex: string }>(read)) payloads.set(p.batch_id, fromHex(p.data_hex));
  }
  const opened = new Map<number, BatchPayload>();
  return rows.map((row) => {
    const stored = payloads.get(row.batch_id);
    const span = { offset: row.payload_offset, bytes: row.payload_bytes };
    let content: PurgeCandidate["content"];
    try {
      if (!stored) throw new Error("no stored payload");
      let payload = opened.get(row.batch_id);
      if (!payload) opened.set(row.batch_id, (payload = new BatchPayload(stored)));
      content = { text: payload.text(span) };
    } catch {
      content = { storedPayload: stored ?? new Uint8Array(0), ...span };
    }
    return {
      id: row.id,
      uuid: row.uuid,
      eventType: row.event_type,
      outcomeResult: row.outcome_result,
      receivedAt: row.received_at,
      batchId: row.batch_id,
      oktaOrg: row.okta_org,
      eventHookId: row.event_hook_id,
      envelopeEventId: row.envelope_event_id,
      bytes: row.payload_bytes,
      content,
    };
  });
}

/**
 * Old events that stay because a hold keeps them: those of batches below `bound` received before `cutoff` (run
 * after a purge reached the end of that range, so the batches left there are those holding held events: it reads
 * them and their events, the held backlog).
 */
export async function countHeldEvents(db: D1Database, bound: number, cutoff: number): Promise<number> {
  const row = await db
    .prepare(`SELECT count(*) AS n FROM event_batches b CROSS JOIN ${BATCH_EVENTS} WHERE b.id < ?1 AND b.received_at < ?2`)
    .bind(bound, cutoff)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** What one purge transaction deleted, per table. */
export interface PurgeCounts {
  events: number;
  deliveries: number;
  attempts: number;
  batches: number;
  batchDeliveries: number;
  /** Batch payloads (every event text of a batch), deleted with their batch. */
  payloads: number;
}

/** Ids actually deleted (an event that became held since it was picked is not), with the counts. */
export interface PurgeResult extends PurgeCounts {
  deletedIds: number[];
}

/**
 * (type, batch) and (outcome, batch) pairs whose entry goes once no event of the batch carries it: `?1` the pairs
 * of the page's events as [[value, batch id], …]. Each is a primary-key lookup, then the batch's remaining events
 * (none, when the batch row is gone). Run after the uuid lists are rewritten, so those are only the events it keeps.
 */
const pairsWithoutEvents = (table: "batch_types" | "batch_failures", column: "event_type" | "outcome_result") => `
DELETE FROM ${table}
WHERE (${column}, batch_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM event_batches b CROSS JOIN ${BATCH_EVENTS}
                  WHERE b.id = ${table}.batch_id AND e.${column} = ${table}.${column})`;

const distinctPairs = (pairs: Array<[string, number]>) => JSON.stringify([...new Map(pairs.map((p) => [JSON.stringify(p), p])).values()]);

/**
 * Delete these events and what describes only them, in one transaction. Holds are checked again inside it, and
 * nothing is deleted for an event that is still stored afterwards.
 */
export async function purgeEvents(db: D1Database, candidates: readonly PurgeCandidate[]): Promise<PurgeResult> {
  const uuids = JSON.stringify(candidates.map((c) => c.uuid));
  const batchIds = JSON.stringify([...new Set(candidates.map((c) => c.batchId))]);
  const types = distinctPairs(candidates.map((c) => [c.eventType, c.batchId]));
  const failures = distinctPairs(
    candidates.flatMap((c): Array<[string, number]> => (c.outcomeResult === "FAILURE" || c.outcomeResult === "DENY" ? [[c.outcomeResult, c.batchId]] : [])),
  );
  const results = await db.batch<Record<string, unknown>>([
    db.prepare(`DELETE FROM events WHERE uuid IN (${EACH}) AND ${notHeld("events")} RETURNING id`).bind(uuids),
    db
      .prepare(
        `DELETE FROM delivery_attempts WHERE event_uuid IN (${EACH})
           AND NOT EXISTS (SELECT 1 FROM events WHERE events.uuid = delivery_attempts.event_uuid)`,
      )
      .bind(uuids),
    db
      .prepare(
        `DELETE FROM deliveries WHERE event_uuid IN (${EACH})
           AND NOT EXISTS (SELECT 1 FROM events WHERE events.uuid = deliveries.event_uuid)`,
      )
      .bind(uuids),
    // A batch none of whose listed events is left (one lookup per listed uuid, until one is found).
    db
      .prepare(
        `DELETE FROM event_batches AS b WHERE b.id IN (${EACH}) AND b.id < (SELECT max(id) FROM event_batches)
           AND NOT EXISTS (SELECT 1 FROM forward_outbox o WHERE o.batch_id = b.id)
           AND NOT EXISTS (SELECT 1 FROM ${BATCH_EVENTS})`,
      )
      .bind(batchIds),
    // A batch that stays but lost events lists only those it keeps, in id order (see the file's comment for why).
    // The order comes from a subquery, not from `json_group_array(… ORDER BY …)`: ORDER BY inside an aggregate
    // needs SQLite 3.44 or later, and an ordered subquery feeds an aggregate in its order on every version.
    db
      .prepare(
        `UPDATE event_batches AS b SET uuids = (SELECT json_group_array(uuid) FROM (SELECT e.uuid FROM ${BATCH_EVENTS} ORDER BY e.id))
         WHERE b.id IN (${EACH})
           AND EXISTS (SELECT 1 FROM json_each(b.uuids) j
                       WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.uuid = j.value AND e.batch_id = b.id))`,
      )
      .bind(batchIds),
    db.prepare(pairsWithoutEvents("batch_types", "event_type")).bind(types),
    db.prepare(pairsWithoutEvents("batch_failures", "outcome_result")).bind(failures),
    db
      .prepare(
        `DELETE FROM batch_deliveries WHERE batch_id IN (${EACH})
           AND NOT EXISTS (SELECT 1 FROM event_batches WHERE event_batches.id = batch_deliveries.batch_id)`,
      )
      .bind(batchIds),
    db
      .prepare(
        `DELETE FROM event_payloads WHERE batch_id IN (${EACH})
           AND NOT EXISTS (SELECT 1 FROM event_batches WHERE event_batches.id = event_payloads.batch_id)`,
      )
      .bind(batchIds),
  ]);
  const changes = (i: number) => results[i]?.meta.changes ?? 0;
  const deletedIds = allRows<{ id: number }>(results[0]).map((r) => r.id);
  return {
    deletedIds,
    events: deletedIds.length,
    attempts: changes(1),
    deliveries: changes(2),
    batches: changes(3),
    batchDeliveries: changes(7),
    payloads: changes(8),
  };
}

/**
 * A table purged by age alone, in pages: each call deletes at most `limit` rows older than `cutoff` (epoch ms)
 * and resolves to how many it deleted. Inline hook call records are purged through this interface too
 * (./retention-inline-calls.ts), so another audit store can bring its own.
 */
export interface RetentionStep {
  /** The step's field in the retention log line, e.g. "deadLetters". */
  name: string;
  purge(db: D1Database, cutoff: number, limit: number): Promise<number>;
}

async function deleted(statement: D1PreparedStatement): Promise<number> {
  return (await statement.run()).meta.changes ?? 0;
}

/**
 * Dead letters recorded before the cutoff. The table has no index on recorded_at: each page scans it until it has
 * found `limit` rows (it holds only what died, and is itself kept to RETENTION_DEAD_LETTER_DAYS).
 */
export const deadLetterRetention: RetentionStep = {
  name: "deadLetters",
  purge: (db, cutoff, limit) =>
    deleted(
      db
        .prepare("DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters WHERE recorded_at < ?1 LIMIT ?2)")
        .bind(cutoff, limit),
    ),
};

/** Hours of the events-received rollup that began before the cutoff's hour (its primary key is the hour). */
export const eventCountRetention: RetentionStep = {
  name: "eventCounts",
  purge: (db, cutoff, limit) =>
    deleted(
      db
        .prepare("DELETE FROM event_counts WHERE hour IN (SELECT hour FROM event_counts WHERE hour < ?1 ORDER BY hour LIMIT ?2)")
        .bind(Math.floor(cutoff / HOUR_MS), limit),
    ),
};
