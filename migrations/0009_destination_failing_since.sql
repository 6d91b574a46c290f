-- Migration 0009: when a destination's run of failed attempts began (docs/forwarding.md "Auto-disable").
--
-- destinations  `failing_since`: epoch ms of the first failed attempt of the current run (NULL while the last
--               attempt succeeded). A destination is disabled automatically only when the run has reached
--               DESTINATION_DISABLE_AFTER_FAILURES attempts AND began DESTINATION_DISABLE_AFTER_MINUTES ago, so a
--               receiver's blip during a burst of deliveries (a hundred failures in seconds) does not disable it.
--               Set by the failure count's UPDATE, cleared by a success and by re-enabling; no index (read only
--               with its row).

ALTER TABLE destinations ADD COLUMN failing_since INTEGER;
-- A run already under way when this migration is applied starts counting its duration now (its start is unknown).
UPDATE destinations SET failing_since = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE consecutive_failures > 0;
