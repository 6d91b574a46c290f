-- Migration 0004: fewer rows written per event, fewer bytes stored per event (docs/storage.md).
--
-- event_batches    one row per Okta delivery that stored at least one new event: what the envelope said (org,
--                  hook id, eventId) and when it arrived, kept once instead of on every event. Its events are
--                  rows first_event_id .. first_event_id + event_count - 1 of `events` (at most: duplicates are
--                  not stored), because a delivery is written in one transaction and D1 runs one at a time.
-- forward_outbox   batches stored but not yet fanned out: inserted in the ingest transaction, deleted by the
--                  fan-out that recorded every outcome. The sweeper re-enqueues rows left behind.
-- batch_deliveries one row per (batch, destination) with the events that were delivered on their first attempt.
--                  Everything else (a failed attempt, a paused destination, a refused URL) gets a `deliveries`
--                  row as before, which drives retries, resume and dead letters.
-- event_payloads   one row per batch: the exact texts of its events, one after another, compressed together
--                  (a BLOB: deflate with a preset dictionary, src/storage/payload-codec.ts). Compressing a
--                  delivery at once instead of each event alone keeps about a third fewer bytes per event.
-- events           rebuilt: an INTEGER PRIMARY KEY (stable under VACUUM, which batches rely on), where its text
--                  is in its batch's payload (byte offset and length) instead of a payload column, `published` as
--                  epoch ms, and two indexes instead of six. Nothing updates an event after it is stored.
-- gateway_meta     small counters; `destinations_version` changes whenever a destination's routing changes
--                  (triggers below), so an isolate's cached routing is known to be current or not.

CREATE TABLE event_batches (
  id                INTEGER PRIMARY KEY,
  first_event_id    INTEGER NOT NULL,
  event_count       INTEGER NOT NULL,          -- events in the delivery: an upper bound of those stored here
  received_at       INTEGER NOT NULL,          -- epoch ms
  okta_org          TEXT,                      -- host of the envelope source, e.g. acme.okta.com
  event_hook_id     TEXT,                      -- Okta event hook id from the envelope source
  envelope_event_id TEXT,                      -- the envelope's eventId
  ingest_token      INTEGER                    -- random per ingest: lets the same transaction tell its own batch row
) STRICT;
-- Time range → batches → a range of event ids (event ids grow with time, as batch ids do).
CREATE INDEX event_batches_received ON event_batches (received_at);

CREATE TABLE event_payloads (
  batch_id INTEGER PRIMARY KEY,               -- event_batches.id
  data     BLOB NOT NULL                      -- the batch's event texts (src/storage/payload-codec.ts)
) STRICT;

CREATE TABLE forward_outbox (
  batch_id    INTEGER PRIMARY KEY,            -- event_batches.id
  created_at  INTEGER NOT NULL,               -- epoch ms
  enqueued_at INTEGER,                        -- when a message for it was (last) sent; NULL: never, or the send failed
  lease_until INTEGER                         -- a consumer is fanning it out until then (epoch ms)
) STRICT;

CREATE TABLE batch_deliveries (
  batch_id       INTEGER NOT NULL,            -- event_batches.id
  destination_id TEXT NOT NULL,               -- destinations.id (kept as history if the destination is deleted)
  delivered      TEXT NOT NULL,               -- JSON [[event id, HTTP status, latency ms, attempted at], …]
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (batch_id, destination_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE gateway_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO gateway_meta (key, value) VALUES ('destinations_version', 1);

CREATE TRIGGER destinations_version_insert AFTER INSERT ON destinations
BEGIN UPDATE gateway_meta SET value = value + 1 WHERE key = 'destinations_version'; END;
CREATE TRIGGER destinations_version_delete AFTER DELETE ON destinations
BEGIN UPDATE gateway_meta SET value = value + 1 WHERE key = 'destinations_version'; END;
CREATE TRIGGER destinations_version_update AFTER UPDATE OF event_types, conditions ON destinations
BEGIN UPDATE gateway_meta SET value = value + 1 WHERE key = 'destinations_version'; END;

CREATE TABLE events_v2 (
  id                 INTEGER PRIMARY KEY,
  uuid               TEXT NOT NULL UNIQUE,     -- LogEvent.uuid: the idempotency key
  event_type         TEXT NOT NULL,            -- LogEvent.eventType
  published          INTEGER,                  -- LogEvent.published, epoch ms (NULL when absent or unreadable)
  actor_id           TEXT,                     -- LogEvent.actor.id
  actor_alternate_id TEXT,                     -- LogEvent.actor.alternateId
  outcome_result     TEXT,                     -- LogEvent.outcome.result
  severity           TEXT,                     -- LogEvent.severity
  batch_id           INTEGER,                  -- event_batches.id
  received_at        INTEGER NOT NULL,         -- epoch ms
  forward            INTEGER NOT NULL CHECK (forward IN (0, 1, 2)),
                                               -- 1: forward; 0: never (loop guard, IGNORE_ACTOR_IDS);
                                               -- 2: no destination wanted it when it arrived
  payload_offset     INTEGER NOT NULL,         -- Okta's exact bytes: this many bytes into its batch's payload …
  payload_bytes      INTEGER NOT NULL          -- … this many (UTF-8)
) STRICT;
CREATE INDEX events_type ON events_v2 (event_type, id);

-- Every existing event becomes a batch of its own, its payload copied as it was (UTF-8 JSON, which the codec reads
-- as is). Those not yet fanned out go to the outbox, so they are forwarded like new ones; those already fanned out
-- keep their `deliveries` rows.
INSERT INTO events_v2 (id, uuid, event_type, published, actor_id, actor_alternate_id, outcome_result, severity,
                       batch_id, received_at, forward, payload_offset, payload_bytes)
SELECT e.rowid, e.uuid, e.event_type,
       CASE WHEN e.published GLOB '[0-9][0-9][0-9][0-9]-*'
            THEN CAST(round((julianday(e.published) - 2440587.5) * 86400000) AS INTEGER) END,
       e.actor_id, e.actor_alternate_id, e.outcome_result, e.severity, e.rowid,
       e.received_at, CASE WHEN e.forward_state = 'skipped' THEN 0 ELSE 1 END, 0, length(CAST(e.payload AS BLOB))
FROM events e ORDER BY e.rowid;

INSERT INTO event_batches (id, first_event_id, event_count, received_at, okta_org, event_hook_id, envelope_event_id)
SELECT rowid, rowid, 1, received_at, okta_org, event_hook_id, envelope_event_id FROM events ORDER BY rowid;
INSERT INTO event_payloads (batch_id, data) SELECT rowid, CAST(payload AS BLOB) FROM events ORDER BY rowid;
INSERT INTO forward_outbox (batch_id, created_at)
SELECT rowid, received_at FROM events WHERE forward_state IN ('pending', 'enqueued') ORDER BY rowid;

DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
