-- Migration 0010: one row written per stored event (docs/storage.md "Rows written per event").
--
-- D1 bills every b-tree entry a statement writes as a row: a table row and each of its index entries. Until now an
-- event cost three (its row, the uuid's UNIQUE index, the (event_type, id) index) and a failed or denied one four
-- (events_failed). Now it costs one: `events` is a WITHOUT ROWID table keyed by the uuid itself, the idempotency key,
-- with no secondary index. Everything else an event used to be found by is kept once per batch (per Okta delivery):
--
-- events          keyed by uuid. `id` stays (first_event_id + the event's position in its delivery: it still grows with
--                 arrival and is what search pages on), but is no key: an event is reached by uuid, or through its
--                 batch.
-- event_batches   `uuids`: a JSON array of the uuids of the events this batch stored, in id order. Fan-out, search and
--                 retention go from a batch to its events through it (one primary-key lookup per event).
--                 `event_batches_first_event` (first_event_id): the batch that holds an event id (search's cursor and
--                 id ranges). One entry per batch.
-- batch_types     one row per (event type, batch): the batches that hold events of a type. Replaces the per-event
--                 index events_type: a delivery of 20 events mixing 5 types writes 5 entries instead of 20.
-- batch_failures  one row per (outcome, batch) for outcomes FAILURE and DENY: replaces the partial index events_failed.
--
-- Event ids, batch ids and every other table are unchanged, so queue messages in flight, replay jobs and dashboards'
-- cursors stay valid across the migration. It is not additive: the version deployed before it cannot insert into
-- the new `events` (no `id` column there), so it answers deliveries with 503 until the deploy that follows replaces
-- it, and it copies every stored event once (docs/okta-setup.md, "Upgrading across migration 0010").

CREATE TABLE events_v3 (
  uuid               TEXT PRIMARY KEY,         -- LogEvent.uuid: the idempotency key
  id                 INTEGER NOT NULL,         -- grows with arrival: first_event_id of its batch + its position there
  event_type         TEXT NOT NULL,            -- LogEvent.eventType
  published          INTEGER,                  -- LogEvent.published, epoch ms (NULL when absent or unreadable)
  actor_id           TEXT,                     -- LogEvent.actor.id
  actor_alternate_id TEXT,                     -- LogEvent.actor.alternateId
  outcome_result     TEXT,                     -- LogEvent.outcome.result
  severity           TEXT,                     -- LogEvent.severity
  batch_id           INTEGER NOT NULL,         -- event_batches.id
  received_at        INTEGER NOT NULL,         -- epoch ms
  forward            INTEGER NOT NULL CHECK (forward IN (0, 1, 2)),
                                               -- 1: forward; 0: never (loop guard, IGNORE_ACTOR_IDS);
                                               -- 2: no destination wanted it when it arrived
  payload_offset     INTEGER NOT NULL,         -- Okta's exact bytes: this many bytes into its batch's payload …
  payload_bytes      INTEGER NOT NULL          -- … this many (UTF-8)
) STRICT, WITHOUT ROWID;

INSERT INTO events_v3 (uuid, id, event_type, published, actor_id, actor_alternate_id, outcome_result, severity,
                       batch_id, received_at, forward, payload_offset, payload_bytes)
SELECT uuid, id, event_type, published, actor_id, actor_alternate_id, outcome_result, severity,
       batch_id, received_at, forward, payload_offset, payload_bytes
FROM events ORDER BY uuid;

ALTER TABLE event_batches ADD COLUMN uuids TEXT NOT NULL DEFAULT '[]';
-- For the migration only: a batch's events without a scan of the whole table per batch.
CREATE INDEX migration_0010_batch_events ON events_v3 (batch_id, id);
UPDATE event_batches SET uuids = coalesce(
  (SELECT json_group_array(uuid) FROM (SELECT uuid FROM events_v3 WHERE batch_id = event_batches.id ORDER BY id)), '[]');

CREATE TABLE batch_types (
  event_type TEXT NOT NULL,
  batch_id   INTEGER NOT NULL,                 -- event_batches.id
  PRIMARY KEY (event_type, batch_id)
) STRICT, WITHOUT ROWID;
INSERT INTO batch_types (event_type, batch_id) SELECT DISTINCT event_type, batch_id FROM events_v3 ORDER BY 1, 2;

CREATE TABLE batch_failures (
  outcome_result TEXT NOT NULL,                -- FAILURE or DENY
  batch_id       INTEGER NOT NULL,             -- event_batches.id
  PRIMARY KEY (outcome_result, batch_id)
) STRICT, WITHOUT ROWID;
INSERT INTO batch_failures (outcome_result, batch_id)
SELECT DISTINCT outcome_result, batch_id FROM events_v3 WHERE outcome_result IN ('FAILURE', 'DENY') ORDER BY 1, 2;

DROP INDEX migration_0010_batch_events;
CREATE INDEX event_batches_first_event ON event_batches (first_event_id);

DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
