-- Migration 0007: the events-received rollup behind GET /admin/api/stats/events (docs/operations.md "Stats").
--
-- event_counts  one row per UTC hour of arrival: how many events of each type were newly stored in it, as a JSON
--               object {"user.session.start": 1234, …}. The ingest transaction upserts it (src/storage/stats-events.ts,
--               one statement in storeDelivery's batch) for the events it newly stored, never for duplicates. A stats
--               query reads one row per hour (and its types) instead of every event: a day of Okta's maximum 400,000
--               events is 24 rows. One row per hour rather than per (hour, type): a delivery then writes one row of
--               the rollup however many types it mixes (an INTEGER PRIMARY KEY table has no index to update).
--
-- Retention (src/jobs/retention.ts) needs no table of its own: it purges by the columns and indexes that exist
-- (events by id, event_batches by received_at), and deletes event_counts hours older than RETENTION_STATS_DAYS.

CREATE TABLE event_counts (
  hour   INTEGER PRIMARY KEY,                 -- UTC hour of arrival: floor(events.received_at / 3,600,000)
  counts TEXT NOT NULL                        -- JSON object: event type -> events newly stored in this hour
) STRICT;

-- Events stored before this migration are counted once, here.
INSERT INTO event_counts (hour, counts)
SELECT hour, json_group_object(event_type, n)
FROM (SELECT received_at / 3600000 AS hour, event_type, count(*) AS n FROM events GROUP BY received_at / 3600000, event_type)
GROUP BY hour;
