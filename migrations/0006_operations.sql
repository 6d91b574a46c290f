-- Migration 0006: the operations API (docs/forwarding.md "Replay" and "Dead letters", docs/storage.md).
--
-- replay_jobs        one row per replay (events sent again to destinations) or redrive-all (a destination's dead
--                    letters back to work): what it selects, where its scan is, and its counters. It is executed
--                    through the forward queue one step at a time ({kind:"replay"} messages), at a bounded rate.
-- deliveries         two columns: the job that (re)opened the delivery's current run, and the webhook-id that run
--                    is sent with when it is a replay (NULL: the delivery's stable id). A replay reuses the
--                    (event, destination) row — the current run — and keeps every earlier attempt, so it never
--                    collides with the original and goes through the same claim, retry, pause and sweep machinery.
-- delivery_attempts  the job each attempt belongs to (NULL: the live stream).
--
-- Indexes, with what they cost (each index entry is one more D1 row written when its row is written):
-- dead_letters_destination  listing a destination's dead letters by time and redriving them in order; one entry
--                           per dead letter, which only permanent failures and exhausted retries write.
-- events_failed             searching failed and denied events (outcome FAILURE or DENY) without reading the
--                           successes around them; a partial index, so only those events (a few per cent in a
--                           typical org) pay its one entry.
-- replay_jobs_running       the sweeper's view of running jobs whose next step is overdue (a lost message).

CREATE TABLE replay_jobs (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('replay', 'redrive')),
  state           TEXT NOT NULL CHECK (state IN ('running', 'finished', 'cancelled')),
  selection       TEXT NOT NULL,               -- JSON: replay {eventUuid} or {filter}; redrive {}
  destination_id  TEXT,                        -- only this destination; NULL: every destination whose filter matches
  rate_per_second INTEGER NOT NULL,            -- most deliveries handed to the queue per second
  range_low       INTEGER,                     -- replay: the events.id range scanned, [low, high)
  range_high      INTEGER,
  cursor          TEXT,                        -- where the next step continues (JSON; NULL: from the start)
  step            INTEGER NOT NULL DEFAULT 0,  -- steps done; a step message for another step is stale
  lease_until     INTEGER,                     -- a consumer runs a step until then (epoch ms)
  next_step_at    INTEGER,                     -- when the next step message is due (epoch ms)
  matched         INTEGER NOT NULL DEFAULT 0,  -- (event, destination) pairs selected
  enqueued        INTEGER NOT NULL DEFAULT 0,  -- pairs handed to forwarding
  skipped         INTEGER NOT NULL DEFAULT 0,  -- pairs left alone: their delivery is still in progress
  delivered       INTEGER NOT NULL DEFAULT 0,  -- of the enqueued: delivered
  failed          INTEGER NOT NULL DEFAULT 0,  -- of the enqueued: dead (a dead letter was written)
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  finished_at     INTEGER                      -- when it finished or was cancelled
) STRICT;
CREATE INDEX replay_jobs_running ON replay_jobs (next_step_at) WHERE state = 'running';

ALTER TABLE deliveries ADD COLUMN job_id INTEGER;      -- replay_jobs.id of the current run; NULL: fan-out
ALTER TABLE deliveries ADD COLUMN webhook_id TEXT;     -- the current run's webhook-id when it is a replay

ALTER TABLE delivery_attempts ADD COLUMN job_id INTEGER;

CREATE INDEX dead_letters_destination ON dead_letters (destination_id, recorded_at, event_uuid);

CREATE INDEX events_failed ON events (outcome_result, id) WHERE outcome_result IN ('FAILURE', 'DENY');
