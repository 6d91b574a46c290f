-- Migration 0007: the events-received rollup behind GET /admin/api/stats/events (docs/operations.md "Stats").
--
-- event_counts  how many events were stored per hour of arrival and event type. The ingest transaction upserts it
--               (src/storage/stats-events.ts, one statement in storeDelivery's batch) for the events it newly stored,
--               never for duplicates, so a stats query reads (hours × types) rows instead of every event: a day of
--               Okta's maximum 400,000 events is at most 24 × (types seen) rows. WITHOUT ROWID: the primary key is the
--               row, so an upsert writes one row and no index entry.
--
-- Retention (src/jobs/retention.ts) needs no table of its own: it purges by the columns and indexes that exist
-- (events by id, event_batches by received_at), and deletes event_counts rows older than RETENTION_STATS_DAYS.

CREATE TABLE event_counts (
  hour       INTEGER NOT NULL,                -- UTC hour of arrival: floor(events.received_at / 3,600,000)
  event_type TEXT NOT NULL,                   -- events.event_type
  count      INTEGER NOT NULL,                -- events of this type newly stored in this hour
  PRIMARY KEY (hour, event_type)
) STRICT, WITHOUT ROWID;

-- Events stored before this migration are counted once, here.
INSERT INTO event_counts (hour, event_type, count)
SELECT received_at / 3600000, event_type, count(*) FROM events GROUP BY received_at / 3600000, event_type;
