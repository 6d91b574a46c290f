/**
 * What D1 says about stored and forwarded events, read straight from the tables (migrations/0004_batches.sql and
 * 0010_one_row_per_event.sql), so the resilience tests can tell "lost" or "half-stored" from "done" without trusting
 * the code under test:
 *
 * - halfStored: every event is listed in its batch's uuid list, with an id inside the batch's range and no other
 *   event's id; every uuid a batch lists is one of its stored events (retention rewrites the list of a batch it
 *   purges in part, so none is left dangling), in id order; every batch lists some; its types and failed outcomes
 *   (batch_types, batch_failures) are exactly those of its events, so search by type or outcome misses none; and
 *   every batch holding an event to forward is either still in the outbox or has its outcome recorded (a
 *   batch_deliveries row or deliveries rows) — nothing can fall between the two;
 * - forwardingOutcomes: per destination, which events were delivered (first attempt in batch_deliveries, later
 *   ones in deliveries), which are still open, which are dead.
 *
 * These are test reads over small tables: some scan `events`, which the product never does.
 */
import { env } from "cloudflare:workers";

async function rows<T>(sql: string, ...args: unknown[]): Promise<T[]> {
  return (await env.DB.prepare(sql).bind(...args).all<T>()).results;
}

/** "value batch" keys of a pairs table, or of what the events say it should hold. */
async function pairKeys(sql: string): Promise<Set<string>> {
  return new Set((await rows<{ value: string; batch_id: number }>(sql)).map((r) => `${r.value} ${r.batch_id}`));
}

/** Descriptions of every half-stored delivery; [] when storage is consistent. */
export async function halfStored(): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await rows<{ uuid: string; batch_id: number }>(
    `SELECT e.uuid, e.batch_id FROM events e LEFT JOIN event_batches b ON b.id = e.batch_id
     WHERE b.id IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(b.uuids) j WHERE j.value = e.uuid)`,
  )) {
    problems.push(`event ${r.uuid} is not listed by a batch row (batch_id ${r.batch_id})`);
  }
  for (const r of await rows<{ uuid: string; id: number }>(
    `SELECT e.uuid, e.id FROM events e JOIN event_batches b ON b.id = e.batch_id
     WHERE e.id < b.first_event_id OR e.id >= b.first_event_id + b.event_count`,
  )) {
    problems.push(`event ${r.uuid} has id ${r.id} outside its batch's range`);
  }
  for (const r of await rows<{ id: number; n: number }>("SELECT id, count(*) AS n FROM events GROUP BY id HAVING n > 1")) {
    problems.push(`${r.n} events share id ${r.id}`);
  }
  for (const r of await rows<{ id: number; uuid: string }>(
    `SELECT b.id, j.value AS uuid FROM event_batches b, json_each(b.uuids) j
     WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.uuid = j.value AND e.batch_id = b.id)`,
  )) {
    problems.push(`batch ${r.id} lists ${r.uuid}, which is not one of its events`);
  }
  for (const r of await rows<{ id: number }>(
    `SELECT DISTINCT b.id FROM event_batches b, json_each(b.uuids) j1 JOIN events e1 ON e1.uuid = j1.value,
            json_each(b.uuids) j2 JOIN events e2 ON e2.uuid = j2.value
     WHERE j1.key < j2.key AND e1.id >= e2.id`,
  )) {
    problems.push(`batch ${r.id} does not list its events in id order`);
  }
  for (const r of await rows<{ id: number }>("SELECT b.id FROM event_batches b WHERE json_array_length(b.uuids) = 0")) {
    problems.push(`batch ${r.id} has no events`);
  }
  for (const [table, column, only] of [
    ["batch_types", "event_type", ""],
    ["batch_failures", "outcome_result", "WHERE outcome_result IN ('FAILURE', 'DENY')"],
  ] as const) {
    const held = await pairKeys(`SELECT ${column} AS value, batch_id FROM ${table}`);
    const carried = await pairKeys(`SELECT DISTINCT ${column} AS value, batch_id FROM events ${only}`);
    for (const key of carried) if (!held.has(key)) problems.push(`${table} misses (${key}): a search would not find its events`);
    for (const key of held) if (!carried.has(key)) problems.push(`${table} holds (${key}), which no event carries`);
  }
  for (const r of await rows<{ id: number }>("SELECT b.id FROM event_batches b WHERE NOT EXISTS (SELECT 1 FROM event_payloads p WHERE p.batch_id = b.id)")) {
    problems.push(`batch ${r.id} has no payload (its events' texts)`);
  }
  for (const r of await rows<{ uuid: string }>(
    `SELECT e.uuid FROM events e JOIN event_payloads p ON p.batch_id = e.batch_id
     WHERE e.payload_offset < 0 OR e.payload_offset + e.payload_bytes > length(p.data) AND substr(p.data, 1, 1) = '{'`,
  )) {
    problems.push(`event ${r.uuid} points outside its batch's payload`);
  }
  for (const r of await rows<{ id: number }>(
    `SELECT b.id FROM event_batches b
     WHERE EXISTS (SELECT 1 FROM json_each(b.uuids) j JOIN events e ON e.uuid = j.value WHERE e.forward = 1)
       AND NOT EXISTS (SELECT 1 FROM forward_outbox o WHERE o.batch_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM batch_deliveries bd WHERE bd.batch_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM json_each(b.uuids) j JOIN deliveries d ON d.event_uuid = j.value)`,
  )) {
    problems.push(`batch ${r.id} has events to forward but is neither in the outbox nor fanned out`);
  }
  return problems;
}

export interface Outcomes {
  delivered: Set<string>;
  /** pending, failed or waiting: a retry or a resume will attempt it. */
  open: Set<string>;
  dead: Set<string>;
}

/** Per event uuid, what became of its forwarding to `destinationId`. */
export async function forwardingOutcomes(destinationId: string): Promise<Outcomes> {
  const outcomes: Outcomes = { delivered: new Set(), open: new Set(), dead: new Set() };
  // A batch's first-attempt record names its events by id: matched among the batch's own events (its uuid list).
  const firstAttempts = await rows<{ uuid: string }>(
    `SELECT e.uuid FROM batch_deliveries bd JOIN event_batches b ON b.id = bd.batch_id, json_each(b.uuids) l
       JOIN events e ON e.uuid = l.value
     WHERE bd.destination_id = ?1 AND e.id IN (SELECT j.value ->> '$[0]' FROM json_each(bd.delivered) j)`,
    destinationId,
  );
  for (const r of firstAttempts) outcomes.delivered.add(r.uuid);
  for (const r of await rows<{ event_uuid: string; state: string }>("SELECT event_uuid, state FROM deliveries WHERE destination_id = ?1", destinationId)) {
    if (r.state === "delivered") outcomes.delivered.add(r.event_uuid);
    else if (r.state === "dead") outcomes.dead.add(r.event_uuid);
    else outcomes.open.add(r.event_uuid);
  }
  return outcomes;
}

export async function storedUuids(): Promise<string[]> {
  return (await rows<{ uuid: string }>("SELECT uuid FROM events ORDER BY uuid")).map((r) => r.uuid);
}

export async function count(table: string): Promise<number> {
  return (await rows<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n;
}

/** Empty every table the event hook and forwarding write (storage is per test file, not per test). */
export async function clearStore(): Promise<void> {
  await env.DB.batch(
    ["events", "event_batches", "batch_types", "batch_failures", "event_payloads", "event_counts", "forward_outbox", "batch_deliveries", "deliveries", "delivery_attempts", "dead_letters", "destinations"].map(
      (table) => env.DB.prepare(`DELETE FROM ${table}`),
    ),
  );
}
