/**
 * What keeps an old event from being purged, however old it is: work on it that is not finished. Retention
 * (./retention.ts) checks every hold when it picks events and again inside the transaction that deletes them, so an
 * event that became held in between (a resume, a replay) stays.
 *
 * Each hold is an SQL condition over one row of `events`, written against the alias it is given. A feature that
 * keeps more work on events (e.g. replays in flight) adds its condition here; the retention tests check that every
 * hold listed here keeps its event.
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
];

/** "NOT (hold 1) AND NOT (hold 2) …" for `alias`. */
export function notHeld(alias: string): string {
  return EVENT_HOLDS.map((hold) => `NOT ${hold.condition(alias)}`).join(" AND ");
}
