/**
 * Putting deliveries back to work for the operations API (docs/forwarding.md "Replay" and "Dead letters"): plain
 * statements over D1Database, run in the same transaction as the job's step (src/storage/replay-jobs.ts).
 *
 * A delivery row is the current run of (event, destination). A replay reopens it as a new run — pending, attempts
 * from zero, its own webhook-id, the job's id — but only when the previous run is over (delivered or dead): a
 * delivery still pending, retrying or waiting is left alone (the job counts it as skipped), so a replay never
 * races the original and never doubles it. A pair that never had a row (a first attempt that delivered, or an
 * event stored before the destination existed) gets one. Every earlier attempt stays in delivery_attempts.
 * A redrive reopens a dead delivery as it was (same webhook-id: the receiver never took it) with a fresh retry
 * schedule. Only destinations that still exist get rows.
 */
import type { DeliveryKey } from "./deliveries";

export interface ReplayPair extends DeliveryKey {
  /** The webhook-id of the replayed run (src/forwarding/signing.ts replayMessageId). */
  webhookId: string;
}

const keysJson = (keys: readonly DeliveryKey[]) => JSON.stringify(keys.map((k) => ({ u: k.eventUuid, d: k.destinationId })));

/** Statement: reopen (or open) each pair as a run of replay job `jobId`; RETURNING the pairs reopened. */
export function reopenForReplayStatement(db: D1Database, pairs: readonly ReplayPair[], jobId: number, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at, job_id, webhook_id)
       SELECT value ->> '$.u', value ->> '$.d', 'pending', 0, ?2, ?2, ?2, ?3, value ->> '$.w'
       FROM json_each(?1) JOIN destinations ON destinations.id = value ->> '$.d'
       WHERE true
       ON CONFLICT (event_uuid, destination_id) DO UPDATE SET
         state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, lease_until = NULL,
         last_status = NULL, last_error = NULL, delivered_at = NULL, updated_at = excluded.updated_at,
         job_id = excluded.job_id, webhook_id = excluded.webhook_id
       WHERE deliveries.state IN ('delivered', 'dead') AND deliveries.job_id IS NOT excluded.job_id
       RETURNING event_uuid, destination_id`,
    )
    .bind(JSON.stringify(pairs.map((p) => ({ u: p.eventUuid, d: p.destinationId, w: p.webhookId }))), now, jobId);
}

/**
 * Statement: reopen dead deliveries (redrive), with a fresh retry schedule and their webhook-id kept; a dead letter
 * whose delivery row is gone gets a new pending row. RETURNING the deliveries reopened.
 */
export function reopenDeadStatement(db: D1Database, keys: readonly DeliveryKey[], jobId: number | null, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at, job_id)
       SELECT value ->> '$.u', value ->> '$.d', 'pending', 0, ?2, ?2, ?2, ?3
       FROM json_each(?1) JOIN destinations ON destinations.id = value ->> '$.d'
       WHERE true
       ON CONFLICT (event_uuid, destination_id) DO UPDATE SET
         state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, lease_until = NULL,
         updated_at = excluded.updated_at, job_id = excluded.job_id
       WHERE deliveries.state = 'dead'
       RETURNING event_uuid, destination_id`,
    )
    .bind(keysJson(keys), now, jobId);
}

/**
 * Statement: first deliveries of events that never fanned out (their dead letter has no destination), as fan-out
 * would have opened them: the stable webhook-id, pending now. A pair that already has a row keeps it.
 */
export function openFanOutDeliveriesStatement(db: D1Database, keys: readonly DeliveryKey[], jobId: number | null, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at, job_id)
       SELECT value ->> '$.u', value ->> '$.d', 'pending', 0, ?2, ?2, ?2, ?3
       FROM json_each(?1) JOIN destinations ON destinations.id = value ->> '$.d'
       WHERE true
       ON CONFLICT (event_uuid, destination_id) DO NOTHING
       RETURNING event_uuid, destination_id`,
    )
    .bind(keysJson(keys), now, jobId);
}

/** Statement: the dead letters of deliveries this job (or redrive) just reopened are no longer dead. */
export function deleteReopenedDeadLettersStatement(db: D1Database, keys: readonly DeliveryKey[], jobId: number | null, now: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM dead_letters WHERE rowid IN (
         SELECT dl.rowid FROM json_each(?1) j
         JOIN dead_letters dl ON dl.event_uuid = j.value ->> '$.u' AND dl.destination_id = j.value ->> '$.d'
         JOIN deliveries d ON d.event_uuid = dl.event_uuid AND d.destination_id = dl.destination_id
         WHERE d.state = 'pending' AND d.updated_at = ?3 AND d.job_id IS ?2)`,
    )
    .bind(keysJson(keys), jobId, now);
}

/** Statement: remove these dead letters (redriven, or stale: their delivery is no longer dead). */
export function deleteDeadLettersStatement(db: D1Database, keys: readonly DeliveryKey[]): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM dead_letters WHERE rowid IN (
         SELECT dl.rowid FROM json_each(?1) j
         JOIN dead_letters dl ON dl.event_uuid = j.value ->> '$.u' AND dl.destination_id = j.value ->> '$.d')`,
    )
    .bind(keysJson(keys));
}

/** Read the returned keys of a reopen statement's result. */
export function reopenedKeys(result: D1Result<unknown> | undefined): DeliveryKey[] {
  return ((result?.results ?? []) as Array<{ event_uuid: string; destination_id: string }>).map((r) => ({
    eventUuid: r.event_uuid,
    destinationId: r.destination_id,
  }));
}
