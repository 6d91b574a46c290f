/**
 * A destination's last failure (time, HTTP status, short error) for the admin API's view, read from indexes that
 * exist for other reasons, so it costs no write and a few rows read per destination, however large its history:
 *
 * - its newest dead letter: `dead_letters_destination` (destination_id, recorded_at, …) read backwards, one index
 *   entry and its row, and the status of its delivery's last attempt (`delivery_attempts_delivery`, one entry and
 *   its row);
 * - its newest delivery still retrying (state `failed`): `deliveries_destination_state` (destination_id, state)
 *   walked newest row first, one entry and its row, then that delivery's last attempt through
 *   `delivery_attempts_delivery` (event_uuid, destination_id, attempt), one entry and its row.
 *
 * The later of the two is the answer. It is the last failure still standing — retrying or dead — not every
 * failure ever: one that a later retry delivered is over, and one whose delivery now waits for a paused or disabled
 * destination is told by the destination's own state and failure count. Among several retrying deliveries it is
 * the newest one's last attempt (an older delivery's later retry is not looked for: that would read all of them).
 */
import { allRows } from "./d1";

export interface LastFailure {
  /** Epoch ms. */
  at: number;
  status: number | null;
  error: string | null;
  /** Whether the failure left its delivery retrying or dead. */
  delivery: "retrying" | "dead";
}

interface Row {
  id: string;
  dead: string | null;
  retrying: string | null;
}

/** One statement: the last failure of each of these destinations (all of them when `ids` is undefined). */
export function lastFailuresStatement(db: D1Database, ids?: readonly string[]): D1PreparedStatement {
  return db
    .prepare(
      `SELECT d.id,
         (SELECT json_array(l.recorded_at, l.reason,
                   (SELECT a.status FROM delivery_attempts a WHERE a.event_uuid = l.event_uuid AND a.destination_id = l.destination_id
                     ORDER BY a.attempt DESC LIMIT 1))
           FROM dead_letters l
           WHERE l.destination_id = d.id ORDER BY l.recorded_at DESC LIMIT 1) AS dead,
         (SELECT json_array(a.attempted_at, a.status, a.error)
           FROM deliveries r JOIN delivery_attempts a ON a.event_uuid = r.event_uuid AND a.destination_id = r.destination_id
           WHERE r.destination_id = d.id AND r.state = 'failed' ORDER BY r.rowid DESC, a.attempt DESC LIMIT 1) AS retrying
       FROM destinations d
       WHERE ?1 IS NULL OR d.id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(ids === undefined ? null : JSON.stringify(ids));
}

/** The statement's result, per destination id (absent: no failure standing). */
export function lastFailuresOf(result: D1Result<Record<string, unknown>>): Map<string, LastFailure> {
  const failures = new Map<string, LastFailure>();
  for (const row of allRows<Row>(result)) {
    const dead = row.dead === null ? null : (JSON.parse(row.dead) as [number, string, number | null]);
    const retrying = row.retrying === null ? null : (JSON.parse(row.retrying) as [number, number | null, string | null]);
    if (dead && (!retrying || dead[0] >= retrying[0])) failures.set(row.id, { at: dead[0], status: dead[2], error: dead[1], delivery: "dead" });
    else if (retrying) failures.set(row.id, { at: retrying[0], status: retrying[1], error: retrying[2], delivery: "retrying" });
  }
  return failures;
}

export async function readLastFailures(db: D1Database, ids?: readonly string[]): Promise<Map<string, LastFailure>> {
  return lastFailuresOf(await lastFailuresStatement(db, ids).all());
}
