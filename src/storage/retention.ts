/**
 * Retention's statements (docs/operations.md "Retention"): finding events old enough to purge and deleting them
 * with everything that only describes them, and the simpler age-based purges of other tables. The job that runs
 * them in bounded rounds, with the archive in between, is src/jobs/retention.ts.
 *
 * Events are purged oldest id first. Ids grow with arrival (max()+1 inside the ingest transaction), so
 * "received before the cutoff" is an id range: below the first event of the first batch that arrived at or after
 * the cutoff (found through the event_batches_received index), filtered exactly on received_at. The scan over
 * that range reads the old events that are held (./retention-holds.ts) as well as the purgeable ones, so a run's
 * reads are bounded by the held backlog plus the page size, and held events never stop the purge behind them.
 *
 * The newest event and the newest batch row are never deleted, whatever their age: the next ids are max()+1, and
 * deleting the newest row would let a later delivery reuse its id — which the batch's id range and the archive's
 * object names rely on never happening.
 *
 * Deleting is one transaction per page: the events (holds checked again), then what describes only deleted events
 * — their deliveries (delivered or dead, as the holds guarantee) and attempts, their batch rows once no event of
 * the batch is left (and not in the outbox), and those batches' first-attempt records. Every deleted index entry
 * is a row written, as D1 bills it.
 */
import { BatchPayload } from "./payload-codec";
import { allRows } from "./d1";
import { notHeld } from "./retention-holds";
import { HOUR_MS } from "./stats-events";

/** An event retention may purge, with what its archive line says about it. */
export interface PurgeCandidate {
  id: number;
  uuid: string;
  eventType: string;
  receivedAt: number;
  batchId: number | null;
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
  received_at: number;
  batch_id: number | null;
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

/**
 * The exclusive upper id of the events that may be purged for `cutoff` (epoch ms): never above the newest event's
 * id, and below the first event of the first batch that arrived at or after the cutoff. Null: no events at all.
 * Reads two rows (max(id) of the primary key, one entry of event_batches_received).
 */
export async function purgeBound(db: D1Database, cutoff: number): Promise<number | null> {
  const row = await db
    .prepare(
      `SELECT (SELECT max(id) FROM events) AS newest,
              (SELECT first_event_id FROM event_batches WHERE received_at >= ?1 ORDER BY received_at LIMIT 1) AS first_recent`,
    )
    .bind(cutoff)
    .first<{ newest: number | null; first_recent: number | null }>();
  if (row?.newest == null) return null;
  return row.first_recent == null ? row.newest : Math.min(row.newest, row.first_recent);
}

/**
 * Up to `limit` purgeable events with ids in (afterId, bound), received before `cutoff`, oldest first: none held,
 * each with its text from its batch's payload (read once per batch; as hex, which D1 returns far more compactly
 * than a BLOB's array of numbers). With `maxBytes`, no event is taken once those before it hold that many bytes of
 * text (the first always is): a page of large events must fit a Worker's memory, as hex, as text and as its archive.
 * The caller knows the page was cut when its events hold `maxBytes` or more.
 */
export async function purgeCandidates(
  db: D1Database,
  range: { afterId: number; bound: number; cutoff: number; limit: number; maxBytes?: number },
): Promise<PurgeCandidate[]> {
  const result = await db
    .prepare(
      `SELECT e.id, e.uuid, e.event_type, e.received_at, e.batch_id, e.payload_offset, e.payload_bytes,
              b.okta_org, b.event_hook_id, b.envelope_event_id
       FROM events e LEFT JOIN event_batches b ON b.id = e.batch_id
       WHERE e.id > ?1 AND e.id < ?2 AND e.received_at < ?3 AND ${notHeld("e")}
       ORDER BY e.id LIMIT ?4`,
    )
    .bind(range.afterId, range.bound, range.cutoff, range.limit)
    .all<CandidateRow>();
  const rows: CandidateRow[] = [];
  let bytesBefore = 0;
  for (const row of allRows<CandidateRow>(result)) {
    if (rows.length > 0 && range.maxBytes !== undefined && bytesBefore >= range.maxBytes) break;
    rows.push(row);
    bytesBefore += row.payload_bytes;
  }
  const batchIds = [...new Set(rows.flatMap((r) => (r.batch_id === null ? [] : [r.batch_id])))];
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
    const stored = row.batch_id === null ? undefined : payloads.get(row.batch_id);
    const span = { offset: row.payload_offset, bytes: row.payload_bytes };
    let content: PurgeCandidate["content"];
    try {
      if (!stored) throw new Error("no stored payload");
      let payload = opened.get(row.batch_id!);
      if (!payload) opened.set(row.batch_id!, (payload = new BatchPayload(stored)));
      content = { text: payload.text(span) };
    } catch {
      content = { storedPayload: stored ?? new Uint8Array(0), ...span };
    }
    return {
      id: row.id,
      uuid: row.uuid,
      eventType: row.event_type,
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

/** Old events that stay because a hold keeps them: ids below `bound` received before `cutoff` (run after a purge). */
export async function countHeldEvents(db: D1Database, bound: number, cutoff: number): Promise<number> {
  const row = await db
    .prepare("SELECT count(*) AS n FROM events WHERE id < ?1 AND received_at < ?2")
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

const EACH = "SELECT value FROM json_each(?1)";

/**
 * Delete these events and what describes only them, in one transaction. Holds are checked again inside it, and
 * nothing is deleted for an event that is still stored afterwards.
 */
export async function purgeEvents(db: D1Database, candidates: readonly PurgeCandidate[]): Promise<PurgeResult> {
  const ids = JSON.stringify(candidates.map((c) => c.id));
  const uuids = JSON.stringify(candidates.map((c) => c.uuid));
  const batchIds = JSON.stringify([...new Set(candidates.flatMap((c) => (c.batchId === null ? [] : [c.batchId])))]);
  const results = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `DELETE FROM events WHERE id IN (${EACH}) AND id < (SELECT max(id) FROM events) AND ${notHeld("events")}
         RETURNING id`,
      )
      .bind(ids),
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
    db
      .prepare(
        `DELETE FROM event_batches WHERE id IN (${EACH}) AND id < (SELECT max(id) FROM event_batches)
           AND NOT EXISTS (SELECT 1 FROM forward_outbox o WHERE o.batch_id = event_batches.id)
           AND NOT EXISTS (SELECT 1 FROM events
                           WHERE events.id >= event_batches.first_event_id
                             AND events.id < event_batches.first_event_id + event_batches.event_count
                             AND events.batch_id = event_batches.id)`,
      )
      .bind(batchIds),
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
    batchDeliveries: changes(4),
    payloads: changes(5),
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
