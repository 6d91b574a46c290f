/**
 * What D1 says about stored and forwarded events, read straight from the tables (migrations/0004_batches.sql), so
 * the resilience tests can tell "lost" or "half-stored" from "done" without trusting the code under test:
 *
 * - halfStored: every event belongs to a batch row whose id range holds it, every batch row has events, and every
 *   batch holding an event to forward is either still in the outbox or has its outcome recorded (a batch_deliveries
 *   row or deliveries rows) — nothing can fall between the two;
 * - forwardingOutcomes: per destination, which events were delivered (first attempt in batch_deliveries, later
 *   ones in deliveries), which are still open, which are dead.
 */
import { env } from "cloudflare:workers";

async function rows<T>(sql: string, ...args: unknown[]): Promise<T[]> {
  return (await env.DB.prepare(sql).bind(...args).all<T>()).results;
}

/** Descriptions of every half-stored delivery; [] when storage is consistent. */
export async function halfStored(): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await rows<{ uuid: string; batch_id: number | null }>(
    `SELECT e.uuid, e.batch_id FROM events e LEFT JOIN event_batches b ON b.id = e.batch_id
     WHERE b.id IS NULL OR e.id < b.first_event_id OR e.id >= b.first_event_id + b.event_count`,
  )) {
    problems.push(`event ${r.uuid} has no batch row covering it (batch_id ${r.batch_id})`);
  }
  for (const r of await rows<{ id: number }>("SELECT b.id FROM event_batches b WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.batch_id = b.id)")) {
    problems.push(`batch ${r.id} has no events`);
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
     WHERE EXISTS (SELECT 1 FROM events e WHERE e.batch_id = b.id AND e.forward = 1)
       AND NOT EXISTS (SELECT 1 FROM forward_outbox o WHERE o.batch_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM batch_deliveries bd WHERE bd.batch_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM deliveries d JOIN events e ON e.uuid = d.event_uuid WHERE e.batch_id = b.id)`,
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
  const firstAttempts = await rows<{ uuid: string }>(
    `SELECT e.uuid FROM batch_deliveries bd, json_each(bd.delivered) j JOIN events e ON e.id = j.value ->> '$[0]'
     WHERE bd.destination_id = ?1`,
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
    ["events", "event_batches", "event_payloads", "event_counts", "forward_outbox", "batch_deliveries", "deliveries", "delivery_attempts", "dead_letters", "destinations"].map(
      (table) => env.DB.prepare(`DELETE FROM ${table}`),
    ),
  );
}
