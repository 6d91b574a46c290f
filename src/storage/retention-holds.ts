/**
 * What keeps an old event from being purged, however old it is: work on it that is not finished. Retention
 * (./retention.ts) checks every hold when it picks events and again inside the transaction that deletes them, so an
 * event that became held in between (a resume, a replay) stays.
 *
 * Each hold is an SQL condition over one row of `events`, written against the alias it is given. A feature that
 * keeps more work on events adds its condition here; the retention tests check that every hold listed here keeps
 * its event (test/integration/retention.test.ts, and retention-replay.test.ts for the jobs).
 */

export interface RetentionHold {
  /** Names the hold in docs and tests. */
  name: string;
  /** True when the event `alias` must be kept. Should use an index: it runs once per old event per retention run. */
  condition(alias: string): string;
}

export const EVENT_HOLDS: readonly RetentionHold[] = [
  {
    // Not fanned out yet: its batch is still in the outbox (primary key lookup).
    name: "batch in forward_outbox",
    condition: (e) => `EXISTS (SELECT 1 FROM forward_outbox o WHERE o.batch_id = ${e}.batch_id)`,
  },
  {
    // A delivery still to attempt, retrying, or waiting for its destination to resume (deliveries' primary key
    // starts with event_uuid).
    name: "delivery pending, failed or waiting",
    condition: (e) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.event_uuid = ${e}.uuid AND d.state IN ('pending', 'failed', 'waiting'))`,
  },
  {
    // A running filter replay has not reached it yet: its id is in the job's range [range_low, range_high). A
    // backfill walks history newest first at its rate, so its oldest events may cross the cutoff before it gets
    // there. Read through the partial index of running jobs (usually none: no row read).
    name: "in the range of a running replay",
    condition: (e) =>
      `EXISTS (SELECT 1 FROM replay_jobs j INDEXED BY replay_jobs_running
               WHERE j.state = 'running' AND j.kind = 'replay' AND ${e}.id >= j.range_low AND ${e}.id < j.range_high)`,
  },
  {
    // A running redrive of a destination's dead letters has not reached its letter yet (dead_letters' primary key
    // starts with event_uuid).
    name: "dead letter of a running redrive",
    condition: (e) =>
      `EXISTS (SELECT 1 FROM replay_jobs j INDEXED BY replay_jobs_running
                 JOIN dead_letters dl ON dl.event_uuid = ${e}.uuid AND dl.destination_id = j.destination_id
               WHERE j.state = 'running' AND j.kind = 'redrive')`,
  },
];

/** "NOT (hold 1) AND NOT (hold 2) …" for `alias`. */
export function notHeld(alias: string): string {
  return EVENT_HOLDS.map((hold) => `NOT ${hold.condition(alias)}`).join(" AND ");
}
