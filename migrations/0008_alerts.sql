-- Migration 0008: alerts, and when a destination was disabled (docs/operations.md "Alerts", docs/storage.md).
--
-- alerts        one row per `gateway.alert` raised: what (kind, subject, the figures it reports), when, where it goes
--               (ALERT_DESTINATION_ID when it was raised) and how its delivery went (the same states and retry
--               schedule as an event's delivery, through the forward queue as {kind:"alert"} messages). A raise
--               inserts only when no alert of the same kind and subject was raised within the cooldown, in the
--               statement itself (NOT EXISTS), so two raisers at once still make one alert. Rare: at most one per
--               destination disable and one per cooldown for the backlog, so its three index entries cost nothing
--               that matters.
-- destinations  `disabled_at`: when the state last became 'disabled' (NULL while not disabled), kept by a trigger
--               so every path — the automatic disable after consecutive failures, an operator's PATCH — sets it.
--               /healthz shows it as `disabledAt`, and the disable alert is raised only by the statement that
--               disabled the destination (its failure count crossed the threshold at this very time).

CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY,
  alert_key       TEXT NOT NULL,                -- 32 random hex digits: the webhook-id is derived from it (ids can be reused)
  kind            TEXT NOT NULL CHECK (kind IN ('destination.disabled', 'backlog.late')),
  subject         TEXT NOT NULL,                -- the destination id, or 'backlog'
  raised_at       INTEGER NOT NULL,             -- epoch ms
  details         TEXT NOT NULL,                -- JSON: reason and figures as the alert body reports them; never a secret
  destination_id  TEXT NOT NULL,                -- where it is sent: ALERT_DESTINATION_ID when it was raised
  state           TEXT NOT NULL CHECK (state IN ('pending', 'failed', 'delivered', 'dead')),
                                                -- pending: to send; failed: a retry is scheduled; delivered: 2xx; dead: given up
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,                      -- when the next attempt is due; the cron re-sends messages lost past it
  lease_until     INTEGER,                      -- a consumer is sending it until then
  last_status     INTEGER,                      -- HTTP status of the last attempt (NULL: no response)
  last_error      TEXT,                         -- short reason of the last failure; never a secret or a body
  delivered_at    INTEGER,
  updated_at      INTEGER NOT NULL
) STRICT;
-- The cooldown's question: was an alert of this kind about this subject raised since …?
CREATE INDEX alerts_subject ON alerts (kind, subject, raised_at);
-- The cron's view of alerts whose message was lost: small, rows leave it once delivered or dead.
CREATE INDEX alerts_due ON alerts (next_attempt_at) WHERE state IN ('pending', 'failed');

ALTER TABLE destinations ADD COLUMN disabled_at INTEGER;
UPDATE destinations SET disabled_at = updated_at WHERE state = 'disabled';

CREATE TRIGGER destinations_disabled_at AFTER UPDATE OF state ON destinations
WHEN (OLD.state = 'disabled') <> (NEW.state = 'disabled')
BEGIN
  UPDATE destinations SET disabled_at = CASE WHEN NEW.state = 'disabled' THEN NEW.updated_at END WHERE id = NEW.id;
END;
