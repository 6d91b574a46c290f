/**
 * Reading and removing dead letters for the operations API (table `dead_letters`, migrations/0002 and 0006):
 * plain functions over D1Database. Writing them stays with the forwarding path (src/storage/deliveries.ts: one
 * writer per fact).
 *
 * A dead letter is keyed by (event uuid, destination id); the destination is '' for an event whose fan-out never
 * happened. Lists are newest first by `recorded_at`, keyset-paged on (recorded_at, destination_id, event_uuid)
 * through the index `dead_letters_destination` (destination_id, recorded_at, event_uuid): one destination is one
 * index range; every destination is each one's range (one statement each, in one batch) merged, so a page reads
 * at most (limit + 1) rows per destination.
 */
import type { DeliveryKey } from "./deliveries";

export interface DeadLetter {
  eventUuid: string;
  /** '' for an event-level dead letter (its fan-out never happened). */
  destinationId: string;
  reason: string;
  attempts: number;
  recordedAt: number;
}

export interface ListedDeadLetter extends DeadLetter {
  destinationName: string | null;
  /** null when the event is no longer stored. */
  eventType: string | null;
}

/** A position in the newest-first order: the last letter of the previous page. */
export interface DeadLetterPosition {
  recordedAt: number;
  destinationId: string;
  eventUuid: string;
}

interface Row {
  event_uuid: string;
  destination_id: string;
  reason: string;
  attempts: number;
  recorded_at: number;
  destination_name?: string | null;
  event_type?: string | null;
}

const toDeadLetter = (r: Row): DeadLetter => ({
  eventUuid: r.event_uuid,
  destinationId: r.destination_id,
  reason: r.reason,
  attempts: r.attempts,
  recordedAt: r.recorded_at,
});

/** Newest-first order: recorded_at, then destination id, then event uuid, all descending. */
function newerFirst(a: DeadLetterPosition, b: DeadLetterPosition): number {
  return b.recordedAt - a.recordedAt || (a.destinationId < b.destinationId ? 1 : a.destinationId > b.destinationId ? -1 : 0) || (a.eventUuid < b.eventUuid ? 1 : a.eventUuid > b.eventUuid ? -1 : 0);
}

export interface ListOptions {
  /** The destinations to list ('' for event-level letters). */
  destinationIds: readonly string[];
  /** Epoch ms; since inclusive, until exclusive. */
  since?: number;
  until?: number;
  after?: DeadLetterPosition | null;
  limit: number;
}

/** One page of dead letters, newest first, with the position to continue from (null: the end). */
export async function listDeadLetters(db: D1Database, options: ListOptions): Promise<{ letters: ListedDeadLetter[]; next: DeadLetterPosition | null }> {
  if (options.destinationIds.length === 0) return { letters: [], next: null };
  const after = options.after;
  // One statement per destination, in one batch (one round trip): D1 refuses compound SELECTs of more than a few terms.
  const statements = options.destinationIds.map((destinationId) => {
    let keyset = "";
    const values: unknown[] = [destinationId, options.since ?? 0, options.until ?? Number.MAX_SAFE_INTEGER, options.limit + 1];
    if (after) {
      if (destinationId < after.destinationId) keyset = "AND dl.recorded_at <= ?5";
      else if (destinationId > after.destinationId) keyset = "AND dl.recorded_at < ?5";
      else keyset = "AND (dl.recorded_at, dl.event_uuid) < (?5, ?6)";
      values.push(after.recordedAt, ...(destinationId === after.destinationId ? [after.eventUuid] : []));
    }
    return db
      .prepare(
        `SELECT dl.event_uuid, dl.destination_id, dl.reason, dl.attempts, dl.recorded_at
         FROM dead_letters dl INDEXED BY dead_letters_destination
         WHERE dl.destination_id = ?1 AND dl.recorded_at >= ?2 AND dl.recorded_at < ?3 ${keyset}
         ORDER BY dl.recorded_at DESC, dl.event_uuid DESC LIMIT ?4`,
      )
      .bind(...values);
  });
  const results = (await db.batch<Row>(statements)).flatMap((r) => r.results);
  const merged = results.map(toDeadLetter).sort(newerFirst);
  const page = merged.slice(0, options.limit);
  const next = merged.length > options.limit ? page[page.length - 1]! : null;
  return { letters: await withNames(db, page), next: next && { recordedAt: next.recordedAt, destinationId: next.destinationId, eventUuid: next.eventUuid } };
}

/** The destination's name and the event's type of each letter (one lookup each, for the page only). */
async function withNames(db: D1Database, letters: DeadLetter[]): Promise<ListedDeadLetter[]> {
  if (letters.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT j.key AS i, dst.name AS destination_name, e.event_type
       FROM json_each(?1) j
       LEFT JOIN destinations dst ON dst.id = j.value ->> '$.d'
       LEFT JOIN events e ON e.uuid = j.value ->> '$.u'`,
    )
    .bind(JSON.stringify(letters.map((l) => ({ u: l.eventUuid, d: l.destinationId }))))
    .all<{ i: number; destination_name: string | null; event_type: string | null }>();
  return letters.map((l, i) => {
    const names = results.find((r) => r.i === i);
    return { ...l, destinationName: names?.destination_name ?? null, eventType: names?.event_type ?? null };
  });
}

export async function getDeadLetter(db: D1Database, key: DeliveryKey): Promise<DeadLetter | null> {
  const row = await db
    .prepare("SELECT event_uuid, destination_id, reason, attempts, recorded_at FROM dead_letters WHERE event_uuid = ?1 AND destination_id = ?2")
    .bind(key.eventUuid, key.destinationId)
    .first<Row>();
  return row ? toDeadLetter(row) : null;
}

/** Remove one dead letter (acknowledged by an operator: it will not be redriven). Resolves false when there was none. */
export async function deleteDeadLetter(db: D1Database, key: DeliveryKey): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM dead_letters WHERE event_uuid = ?1 AND destination_id = ?2")
    .bind(key.eventUuid, key.destinationId)
    .run();
  return result.meta.changes > 0;
}

/**
 * A redrive-all's next page: the destination's dead letters recorded up to `upTo` (when the redrive started: a
 * delivery that dies again meanwhile is not taken again), oldest first, after `after` (recordedAt, eventUuid).
 */
export async function deadLettersToRedrive(
  db: D1Database,
  destinationId: string,
  upTo: number,
  after: [number, string] | null,
  limit: number,
): Promise<DeadLetter[]> {
  const { results } = await db
    .prepare(
      `SELECT event_uuid, destination_id, reason, attempts, recorded_at FROM dead_letters INDEXED BY dead_letters_destination
       WHERE destination_id = ?1 AND recorded_at <= ?2 AND (recorded_at, event_uuid) > (?3, ?4)
       ORDER BY recorded_at, event_uuid LIMIT ?5`,
    )
    .bind(destinationId, upTo, after?.[0] ?? -1, after?.[1] ?? "", limit)
    .all<Row>();
  return results.map(toDeadLetter);
}

/** How many dead letters a destination has ('' for event-level ones): an index range count. */
export async function countDeadLetters(db: D1Database, destinationId: string): Promise<number> {
  const row = await db
    .prepare("SELECT count(*) AS n FROM dead_letters INDEXED BY dead_letters_destination WHERE destination_id = ?1")
    .bind(destinationId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
