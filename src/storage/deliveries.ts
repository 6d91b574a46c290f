/**
 * Deliveries, their attempts and dead letters (migrations/0002_forwarding.sql): plain functions over D1Database.
 *
 * A delivery is one (event, destination) pair; its row is the state machine the queue consumer drives. Writes of
 * one attempt (the attempt row, the delivery's new state, the destination's failure count) go in one `db.batch`,
 * so a crash never leaves an attempt half-recorded.
 */
import { countFailureStatement, resetFailuresStatement, type DisableRule } from "./destinations";
import { allRows } from "./d1";

export type DeliveryState = "pending" | "failed" | "waiting" | "delivered" | "dead";

export interface DeliveryRow {
  event_uuid: string;
  destination_id: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  /** The replay or redrive job that (re)opened the current run (migrations/0006); null: fan-out. */
  job_id: number | null;
  /** The current run's webhook-id when it is a replay; null: the delivery's stable id. */
  webhook_id: string | null;
}

export interface DeliveryKey {
  eventUuid: string;
  destinationId: string;
}

/** A first attempt that did not deliver, or a delivery that waits for its destination: it gets a `deliveries` row. */
export interface OpenDelivery extends DeliveryKey {
  state: "pending" | "failed" | "dead" | "waiting";
  /** 1 after a first attempt, 0 while waiting or when the first attempt is left to a delivery message. */
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * Statements recording the deliveries of a fan-out that need a row (idempotent: an existing pair is left as it is).
 * Only destinations that still exist get one (a destination deleted meanwhile gets none, instead of an orphan).
 */
export function insertOpenDeliveriesStatement(db: D1Database, rows: readonly OpenDelivery[], now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, last_status, last_error,
                               created_at, updated_at)
       SELECT value ->> '$.u', value ->> '$.d', value ->> '$.s', value ->> '$.a', value ->> '$.n', value ->> '$.st',
              value ->> '$.e', ?2, ?2
       FROM json_each(?1) JOIN destinations ON destinations.id = value ->> '$.d'
       WHERE true
       ON CONFLICT (event_uuid, destination_id) DO NOTHING`,
    )
    .bind(
      JSON.stringify(rows.map((r) => ({ u: r.eventUuid, d: r.destinationId, s: r.state, a: r.attempts, n: r.nextAttemptAt, st: r.lastStatus, e: r.lastError }))),
      now,
    );
}

/** An attempt row, as `delivery_attempts` keeps it. */
export interface AttemptEntry extends DeliveryKey {
  attempt: number;
  attemptedAt: number;
  status: number | null;
  latencyMs: number;
  outcome: "delivered" | "retry" | "dead";
  error: string | null;
}

export function insertAttemptsStatement(db: D1Database, rows: readonly AttemptEntry[]): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO delivery_attempts (event_uuid, destination_id, attempt, attempted_at, status, latency_ms, outcome, error)
       SELECT value ->> '$.u', value ->> '$.d', value ->> '$.a', value ->> '$.t', value ->> '$.s', value ->> '$.l',
              value ->> '$.o', value ->> '$.e'
       FROM json_each(?1)`,
    )
    .bind(
      JSON.stringify(rows.map((r) => ({ u: r.eventUuid, d: r.destinationId, a: r.attempt, t: r.attemptedAt, s: r.status, l: r.latencyMs, o: r.outcome, e: r.error }))),
    );
}

/** Dead letters of many deliveries (idempotent per delivery; a later record replaces the reason). */
export function insertDeadLettersStatement(
  db: D1Database,
  letters: ReadonlyArray<DeliveryKey & { reason: string; attempts: number }>,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at)
       SELECT value ->> '$.u', value ->> '$.d', value ->> '$.r', value ->> '$.a', ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (event_uuid, destination_id) DO UPDATE SET reason = excluded.reason, attempts = excluded.attempts,
         recorded_at = excluded.recorded_at`,
    )
    .bind(JSON.stringify(letters.map((l) => ({ u: l.eventUuid, d: l.destinationId, r: l.reason, a: l.attempts }))), now);
}

/** One destination's first-attempt successes of one batch: [event id, HTTP status, latency ms, attempted at]. */
export type DeliveredItem = [eventId: number, status: number, latencyMs: number, attemptedAt: number];

export function insertBatchDeliveriesStatement(
  db: D1Database,
  batchId: number,
  byDestination: ReadonlyMap<string, DeliveredItem[]>,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO batch_deliveries (batch_id, destination_id, delivered, created_at)
       SELECT ?1, value ->> '$.d', value ->> '$.i', ?2 FROM json_each(?3) WHERE true
       ON CONFLICT (batch_id, destination_id) DO NOTHING`,
    )
    .bind(batchId, now, JSON.stringify([...byDestination].map(([d, items]) => ({ d, i: JSON.stringify(items) }))));
}

/** One batch's first-attempt successes, per destination (with its name while it exists). */
export function batchDeliveriesStatement(db: D1Database, batchId: number | null): D1PreparedStatement {
  return db
    .prepare(
      `SELECT bd.destination_id, bd.delivered, bd.created_at, dst.name AS destination_name
       FROM batch_deliveries bd LEFT JOIN destinations dst ON dst.id = bd.destination_id
       WHERE bd.batch_id = ?1 ORDER BY bd.destination_id`,
    )
    .bind(batchId);
}

export async function getDelivery(db: D1Database, key: DeliveryKey): Promise<DeliveryRow | null> {
  return db
    .prepare("SELECT * FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2")
    .bind(key.eventUuid, key.destinationId)
    .first<DeliveryRow>();
}

/**
 * Take the right to attempt a delivery for the destination's timeout plus `leaseSlackMs`: only when it is still to
 * do (pending, failed, or waiting on a destination that may have resumed), nobody else holds it, and it is due (a
 * message arriving well before `next_attempt_at` is a stale duplicate of a retry chain the sweeper restarted).
 * A statement, so the consumer reads destination, delivery and event in one round trip; RETURNING no row means
 * not taken.
 */
export function claimDeliveryStatement(
  db: D1Database,
  key: DeliveryKey,
  now: number,
  leaseSlackMs: number,
  earlySlackMs: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE deliveries
       SET lease_until = ?3 + ?4 + (SELECT timeout_ms FROM destinations WHERE id = ?2), updated_at = ?3
       WHERE event_uuid = ?1 AND destination_id = ?2 AND state IN ('pending', 'failed', 'waiting')
         AND (lease_until IS NULL OR lease_until <= ?3)
         AND (next_attempt_at IS NULL OR next_attempt_at <= ?3 + ?5)
       RETURNING *`,
    )
    .bind(key.eventUuid, key.destinationId, now, leaseSlackMs, earlySlackMs);
}

/** The destination is paused or disabled: the delivery waits, unattempted and uncounted, until it resumes. */
export async function markWaiting(db: D1Database, key: DeliveryKey, now: number): Promise<void> {
  await db
    .prepare(
      `UPDATE deliveries SET state = 'waiting', lease_until = NULL, updated_at = ?3
       WHERE event_uuid = ?1 AND destination_id = ?2 AND state IN ('pending', 'failed', 'waiting')`,
    )
    .bind(key.eventUuid, key.destinationId, now)
    .run();
}

/** Give a claimed delivery back without an attempt (the consumer failed before sending). */
export async function releaseDelivery(db: D1Database, key: DeliveryKey, heldLease: number | null = null): Promise<void> {
  // With `heldLease` (the lease_until the claim wrote), only while it is still that lease: once it has run out, a
  // copy of the message may have claimed the delivery and be sending it, and clearing its lease would let a third
  // message claim and send it at the same time.
  await db
    .prepare("UPDATE deliveries SET lease_until = NULL WHERE event_uuid = ?1 AND destination_id = ?2 AND (?3 IS NULL OR lease_until = ?3)")
    .bind(key.eventUuid, key.destinationId, heldLease)
    .run();
}

export interface AttemptRecord extends DeliveryKey {
  attempt: number;
  attemptedAt: number;
  status: number | null;
  latencyMs: number;
  outcome: "delivered" | "retry" | "dead";
  /** Truncated, secret-free reason; null on success. */
  error: string | null;
  /** For outcome "retry": when the next attempt is due (epoch ms). */
  nextAttemptAt: number | null;
  /** For outcome "dead": the dead letter's reason (defaults to `error`). */
  deadReason?: string;
  /** The replay or redrive job of the delivery's current run (its counters follow the outcome); null: none. */
  jobId?: number | null;
}

export interface AttemptWriteResult {
  /** The destination's state and failure run after this attempt (null on success or when it was deleted). */
  destination: { state: string; consecutive_failures: number; updated_at: number } | null;
  /** The result of `afterFailureCount`, when one was given and the attempt failed. */
  afterFailureCount?: D1Result<unknown>;
}

/** Record one attempt and its consequences in one transaction. */
export async function recordAttempt(
  db: D1Database,
  record: AttemptRecord,
  options: {
    /** When a failed attempt disables the destination (ignored for a success). */
    disableRule: DisableRule;
    /** Runs right after a failed attempt's failure count, in the same transaction (the disable alert, src/queue/alert-raise.ts). */
    afterFailureCount?: D1PreparedStatement | null;
  },
): Promise<AttemptWriteResult> {
  const state: DeliveryState =
    record.outcome === "delivered" ? "delivered" : record.outcome === "retry" ? "failed" : "dead";
  const statements = [
    db
      .prepare(
        `INSERT INTO delivery_attempts (event_uuid, destination_id, attempt, attempted_at, status, latency_ms, outcome, error, job_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
      )
      .bind(record.eventUuid, record.destinationId, record.attempt, record.attemptedAt, record.status, record.latencyMs,
        record.outcome, record.error, record.jobId ?? null),
    db
      .prepare(
        `UPDATE deliveries SET state = ?3, attempts = ?4, next_attempt_at = ?5, lease_until = NULL, last_status = ?6,
           last_error = ?7, updated_at = ?8, delivered_at = CASE WHEN ?3 = 'delivered' THEN ?8 ELSE delivered_at END
         WHERE event_uuid = ?1 AND destination_id = ?2`,
      )
      .bind(record.eventUuid, record.destinationId, state, record.attempt, record.nextAttemptAt, record.status,
        record.error, record.attemptedAt),
    record.outcome === "delivered"
      ? resetFailuresStatement(db, record.destinationId)
      : countFailureStatement(db, record.destinationId, options.disableRule, record.attemptedAt),
  ];
  const afterFailureCountAt = options.afterFailureCount && record.outcome !== "delivered" ? statements.push(options.afterFailureCount) - 1 : -1;
  // A dead delivery's dead-letter record is written in the same transaction: it cannot go missing between two
  // writes (the dead-letter queue's consumer writes the same row again, idempotently).
  if (record.outcome === "dead") {
    statements.push(
      recordDeadLetterStatement(db, { ...record, reason: record.deadReason ?? record.error ?? "dead", attempts: record.attempt }, record.attemptedAt),
    );
  }
  // A job's run that ends (delivered, or dead) counts in the job, in the same transaction.
  if (record.jobId != null && record.outcome !== "retry") statements.push(countJobOutcomeStatement(db, record.jobId, record.outcome, record.attemptedAt));
  const results = await db.batch<{ state: string; consecutive_failures: number; updated_at: number }>(statements);
  const destination = record.outcome === "delivered" ? null : (results[2]?.results[0] ?? null);
  return { destination, ...(afterFailureCountAt >= 0 && { afterFailureCount: results[afterFailureCountAt] }) };
}

/**
 * Mark a delivery dead without an HTTP attempt (its URL is refused, its event is gone, or the platform gave up on
 * its message) and record the dead letter, in one transaction. A delivery already delivered stays delivered and
 * gets no dead letter.
 */
export async function markDeadWithLetter(
  db: D1Database,
  letter: DeliveryKey & { reason: string; attempts: number },
  now: number,
): Promise<void> {
  await db.batch([
    // A job's run that dies here counts as failed in its job (before the state changes below).
    db
      .prepare(
        `UPDATE replay_jobs SET failed = failed + 1, updated_at = ?3
         WHERE id = (SELECT job_id FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2 AND state NOT IN ('delivered', 'dead'))`,
      )
      .bind(letter.eventUuid, letter.destinationId, now),
    db
      .prepare(
        `UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = ?3, updated_at = ?4
         WHERE event_uuid = ?1 AND destination_id = ?2 AND state <> 'delivered'`,
      )
      .bind(letter.eventUuid, letter.destinationId, letter.reason, now),
    recordDeadLetterStatement(db, letter, now),
  ]);
}

/** One more delivered (or dead) run of a replay or redrive job (migrations/0006_operations.sql). */
export function countJobOutcomeStatement(db: D1Database, jobId: number, outcome: "delivered" | "dead", now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE replay_jobs SET delivered = delivered + (?2 = 'delivered'), failed = failed + (?2 = 'dead'), updated_at = ?3
       WHERE id = ?1`,
    )
    .bind(jobId, outcome, now);
}

/**
 * Record a dead letter (idempotent on the delivery; a later record replaces the reason) — unless the delivery was
 * delivered after all (a late duplicate of its message must not leave a false dead letter).
 */
export function recordDeadLetterStatement(
  db: D1Database,
  letter: DeliveryKey & { reason: string; attempts: number },
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at)
       SELECT ?1, ?2, ?3, ?4, ?5
       WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2 AND state = 'delivered')
       ON CONFLICT (event_uuid, destination_id) DO UPDATE SET reason = excluded.reason, attempts = excluded.attempts,
         recorded_at = excluded.recorded_at`,
    )
    .bind(letter.eventUuid, letter.destinationId, letter.reason, letter.attempts, now);
}

export async function recordDeadLetter(
  db: D1Database,
  letter: DeliveryKey & { reason: string; attempts: number },
  now: number,
): Promise<void> {
  await recordDeadLetterStatement(db, letter, now).run();
}

/** Remove a delivery whose destination no longer exists. */
export async function deleteDelivery(db: D1Database, key: DeliveryKey): Promise<void> {
  await db.prepare("DELETE FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2").bind(key.eventUuid, key.destinationId).run();
}

/**
 * Waiting deliveries of destinations that are active again become pending, due now: at most `limit`, oldest first,
 * of one destination or (the sweeper's pass) of every active destination. Resolves to what it resumed; the caller
 * enqueues them. Because it looks at the destination's current state, a delivery that went to `waiting` in a race
 * with a resume (or with an auto-disable undone by an operator) is picked up by the next sweep.
 */
export async function resumeWaitingDeliveries(
  db: D1Database,
  now: number,
  limit: number,
  destinationId: string | null = null,
): Promise<DeliveryKey[]> {
  const { results } = await db
    .prepare(
      `UPDATE deliveries SET state = 'pending', next_attempt_at = ?1, updated_at = ?1
       WHERE rowid IN (SELECT d.rowid FROM deliveries d JOIN destinations dst ON dst.id = d.destination_id
                       WHERE d.state = 'waiting' AND dst.state = 'active' AND (?3 IS NULL OR d.destination_id = ?3)
                       ORDER BY d.created_at LIMIT ?2)
       RETURNING event_uuid, destination_id`,
    )
    .bind(now, limit, destinationId)
    .all<{ event_uuid: string; destination_id: string }>();
  return results.map((r) => ({ eventUuid: r.event_uuid, destinationId: r.destination_id }));
}

/**
 * The sweeper's query: deliveries to do whose time came more than `graceMs` ago (their queue message was lost),
 * oldest first, at most `limit`; they are marked due now so the next sweep does not pick them again at once. A
 * delivery a consumer holds a live lease on is being attempted right now and is left alone.
 */
export async function takeOverdueDeliveries(db: D1Database, now: number, graceMs: number, limit: number): Promise<DeliveryKey[]> {
  const { results } = await db
    .prepare(
      `UPDATE deliveries SET next_attempt_at = ?1, lease_until = NULL, updated_at = ?1
       WHERE rowid IN (SELECT rowid FROM deliveries
                       WHERE state IN ('pending', 'failed') AND next_attempt_at < ?1 - ?2
                         AND (lease_until IS NULL OR lease_until <= ?1)
                       ORDER BY next_attempt_at LIMIT ?3)
       RETURNING event_uuid, destination_id`,
    )
    .bind(now, graceMs, limit)
    .all<{ event_uuid: string; destination_id: string }>();
  return results.map((r) => ({ eventUuid: r.event_uuid, destinationId: r.destination_id }));
}

/** An attempt as `delivery_attempts` holds it. */
export interface AttemptRow {
  destination_id: string;
  attempt: number;
  attempted_at: number;
  status: number | null;
  latency_ms: number;
  outcome: string;
  error: string | null;
  job_id: number | null;
}

/** An event's deliveries (with their destination's name) and their attempts, in one round trip. */
export async function listEventDeliveries(
  db: D1Database,
  eventUuid: string,
): Promise<{ deliveries: Array<DeliveryRow & { destination_name: string | null }>; attempts: AttemptRow[] }> {
  const [deliveries, attempts] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT d.*, dst.name AS destination_name FROM deliveries d LEFT JOIN destinations dst ON dst.id = d.destination_id
         WHERE d.event_uuid = ?1 ORDER BY d.created_at, d.destination_id`,
      )
      .bind(eventUuid),
    db
      .prepare(
        `SELECT destination_id, attempt, attempted_at, status, latency_ms, outcome, error, job_id FROM delivery_attempts
         WHERE event_uuid = ?1 ORDER BY destination_id, id LIMIT 1000`,
      )
      .bind(eventUuid),
  ]);
  return { deliveries: allRows<DeliveryRow & { destination_name: string | null }>(deliveries), attempts: allRows<AttemptRow>(attempts) };
}
