/**
 * Replay and redrive jobs (table `replay_jobs`, migrations/0006_operations.sql): plain functions over D1Database.
 *
 * A job runs one step at a time through the forward queue (src/queue/replay.ts). Each step takes a lease on the
 * job for its step number, so two copies of a step message never run at once and a stale copy (a step already done)
 * is dropped; the step's outcome, its counters and the next step number are written in the same transaction as the
 * deliveries it reopened (src/storage/reopen-deliveries.ts).
 */
import type { EventFilter } from "./event-search";

export type JobKind = "replay" | "redrive";
export type JobState = "running" | "finished" | "cancelled";

/** What a job selects: one event, the events a filter matches, or (redrive) the dead letters of its destination. */
export type JobSelection = { eventUuid: string } | { filter: EventFilter } | { deadLetters: true };

export interface ReplayJob {
  id: number;
  kind: JobKind;
  state: JobState;
  selection: JobSelection;
  /** Only this destination; null: every destination whose filter matches the event now. */
  destinationId: string | null;
  ratePerSecond: number;
  rangeLow: number | null;
  rangeHigh: number | null;
  /** Where the next step continues: a replay's `before` id, a redrive's last (recordedAt, eventUuid); null: start. */
  cursor: unknown;
  step: number;
  leaseUntil: number | null;
  nextStepAt: number | null;
  matched: number;
  enqueued: number;
  skipped: number;
  delivered: number;
  failed: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

interface JobRow {
  id: number;
  kind: JobKind;
  state: JobState;
  selection: string;
  destination_id: string | null;
  rate_per_second: number;
  range_low: number | null;
  range_high: number | null;
  cursor: string | null;
  step: number;
  lease_until: number | null;
  next_step_at: number | null;
  matched: number;
  enqueued: number;
  skipped: number;
  delivered: number;
  failed: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export function toReplayJob(row: JobRow): ReplayJob {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    selection: JSON.parse(row.selection) as JobSelection,
    destinationId: row.destination_id,
    ratePerSecond: row.rate_per_second,
    rangeLow: row.range_low,
    rangeHigh: row.range_high,
    cursor: row.cursor === null ? null : (JSON.parse(row.cursor) as unknown),
    step: row.step,
    leaseUntil: row.lease_until,
    nextStepAt: row.next_step_at,
    matched: row.matched,
    enqueued: row.enqueued,
    skipped: row.skipped,
    delivered: row.delivered,
    failed: row.failed,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

export interface NewJob {
  kind: JobKind;
  selection: JobSelection;
  destinationId: string | null;
  ratePerSecond: number;
  rangeLow: number | null;
  rangeHigh: number | null;
  now: number;
}

/** A new running job, at step 0, its first step due now. */
export async function insertJob(db: D1Database, job: NewJob): Promise<ReplayJob> {
  const row = await db
    .prepare(
      `INSERT INTO replay_jobs (kind, state, selection, destination_id, rate_per_second, range_low, range_high, next_step_at,
                                created_at, updated_at)
       VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7)
       RETURNING *`,
    )
    .bind(job.kind, JSON.stringify(job.selection), job.destinationId, job.ratePerSecond, job.rangeLow, job.rangeHigh, job.now)
    .first<JobRow>();
  return toReplayJob(row!);
}

export async function getJob(db: D1Database, id: number): Promise<ReplayJob | null> {
  const row = await db.prepare("SELECT * FROM replay_jobs WHERE id = ?1").bind(id).first<JobRow>();
  return row ? toReplayJob(row) : null;
}

/** Jobs newest first, below `before` (a previous page's last id), at most `limit`. */
export async function listJobs(db: D1Database, before: number | null, limit: number): Promise<ReplayJob[]> {
  const { results } = await db
    .prepare("SELECT * FROM replay_jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2")
    .bind(before ?? Number.MAX_SAFE_INTEGER, limit)
    .all<JobRow>();
  return results.map(toReplayJob);
}

/** Take step `step` of a running job for `leaseMs`; null when it is not due (done, cancelled, another step, leased). */
export async function claimJobStep(db: D1Database, id: number, step: number, now: number, leaseMs: number): Promise<ReplayJob | null> {
  const row = await db
    .prepare(
      `UPDATE replay_jobs SET lease_until = ?3 + ?4
       WHERE id = ?1 AND step = ?2 AND state = 'running' AND (lease_until IS NULL OR lease_until <= ?3)
       RETURNING *`,
    )
    .bind(id, step, now, leaseMs)
    .first<JobRow>();
  return row ? toReplayJob(row) : null;
}

/** Give a step back without doing it (it failed): the retried message, or the sweeper, takes it again. */
export async function releaseJobStep(db: D1Database, id: number, step: number): Promise<void> {
  await db.prepare("UPDATE replay_jobs SET lease_until = NULL WHERE id = ?1 AND step = ?2").bind(id, step).run();
}

export interface StepOutcome {
  /** (event, destination) pairs this step selected (those it could not reopen included). */
  matched: number;
  /** Where the next step continues (JSON-serialisable); ignored when `done`. */
  cursor: unknown;
  done: boolean;
  /** When the next step's message is due (epoch ms). */
  nextStepAt: number;
  now: number;
}

/**
 * Statement: step `step` is done. Of the `pairs` it selected, `enqueued` counts those this job reopened in the same
 * transaction (pending, job_id = this job, updated now: src/storage/reopen-deliveries.ts), `skipped` the rest. A
 * job cancelled while its step ran stays cancelled.
 */
export function finishStepStatement(
  db: D1Database,
  id: number,
  step: number,
  pairs: ReadonlyArray<{ eventUuid: string; destinationId: string }>,
  outcome: StepOutcome,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE replay_jobs SET
         matched = matched + ?3,
         enqueued = enqueued + c.n,
         skipped = skipped + ?3 - c.n,
         cursor = ?4,
         step = step + 1,
         lease_until = NULL,
         next_step_at = CASE WHEN ?5 THEN NULL ELSE ?6 END,
         state = CASE WHEN state = 'running' AND ?5 THEN 'finished' ELSE state END,
         finished_at = CASE WHEN state = 'running' AND ?5 THEN ?7 ELSE finished_at END,
         updated_at = ?7
       FROM (SELECT count(*) AS n FROM json_each(?8) j
             JOIN deliveries d ON d.event_uuid = j.value ->> '$.u' AND d.destination_id = j.value ->> '$.d'
             WHERE d.job_id = ?1 AND d.state = 'pending' AND d.updated_at = ?7) AS c
       WHERE id = ?1 AND step = ?2`,
    )
    .bind(
      id,
      step,
      outcome.matched,
      JSON.stringify(outcome.cursor ?? null),
      outcome.done ? 1 : 0,
      outcome.nextStepAt,
      outcome.now,
      JSON.stringify(pairs.map((p) => ({ u: p.eventUuid, d: p.destinationId }))),
    );
}

/** Cancel a running job: its next step does nothing. Resolves false when it was not running. */
export async function cancelJob(db: D1Database, id: number, now: number): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE replay_jobs SET state = 'cancelled', finished_at = ?2, updated_at = ?2, next_step_at = NULL
       WHERE id = ?1 AND state = 'running'`,
    )
    .bind(id, now)
    .run();
  return result.meta.changes > 0;
}

/**
 * The sweeper's view: running jobs whose next step was due more than `graceMs` ago and is not leased (its message
 * was lost), at most `limit`; marked due now so the next sweep does not take them again at once.
 */
export async function takeStalledJobs(db: D1Database, now: number, graceMs: number, limit: number): Promise<Array<{ id: number; step: number }>> {
  const { results } = await db
    .prepare(
      `UPDATE replay_jobs SET next_step_at = ?1, updated_at = ?1
       WHERE id IN (SELECT id FROM replay_jobs WHERE state = 'running' AND next_step_at < ?1 - ?2
                      AND (lease_until IS NULL OR lease_until <= ?1)
                    ORDER BY next_step_at LIMIT ?3)
       RETURNING id, step`,
    )
    .bind(now, graceMs, limit)
    .all<{ id: number; step: number }>();
  return results;
}
