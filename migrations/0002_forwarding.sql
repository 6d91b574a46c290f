-- Migration 0002: forwarding (PRODUCT 2B).
--
-- destinations      where stored events go, with their filter, payload format, sealed signing secrets and state;
-- deliveries        one row per (event, destination): the state machine the queue consumer drives;
-- delivery_attempts one row per HTTP attempt (status, latency, truncated error; never a secret or a body);
-- dead_letters      deliveries that will not be retried automatically, as recorded by the dead-letter consumer.
-- See docs/storage.md.

CREATE TABLE destinations (
  id                         TEXT PRIMARY KEY,      -- dst_<random>
  name                       TEXT NOT NULL,
  url                        TEXT NOT NULL,         -- checked by the URL guard on write and again at send time
  event_types                TEXT NOT NULL,         -- JSON array of patterns: exact, prefix "user.lifecycle.*", or ["*"]
  conditions                 TEXT NOT NULL,         -- JSON {outcomeResults?, actorIds?, targetTypes?}; {} = none
  format                     TEXT NOT NULL CHECK (format IN ('standard', 'okta')),
  -- The three secret columns hold sealed values, never clear text: enc:v1:<keyId>:<iv>:<ciphertext> (AES-256-GCM
  -- with SECRETS_ENCRYPTION_KEY, bound to column and id; src/crypto/secret-box.ts). Forwarding opens them to sign.
  signing_secret             TEXT NOT NULL,         -- sealed whsec_…; never returned after create/rotate
  previous_signing_secret    TEXT,                  -- sealed; still signs (second signature) until the time below
  previous_secret_expires_at INTEGER,               -- epoch ms
  okta_auth_header           TEXT,                  -- format 'okta': header name the receiver expects
  okta_auth_value            TEXT,                  -- format 'okta': its value, sealed (never returned)
  timeout_ms                 INTEGER NOT NULL,
  state                      TEXT NOT NULL CHECK (state IN ('active', 'paused', 'disabled')),
  consecutive_failures       INTEGER NOT NULL DEFAULT 0,
  disabled_reason            TEXT,                  -- why the gateway disabled it (automatic disable only)
  created_at                 INTEGER NOT NULL,      -- epoch ms
  updated_at                 INTEGER NOT NULL       -- epoch ms
) STRICT;

CREATE TABLE deliveries (
  event_uuid      TEXT NOT NULL,                    -- events.uuid
  destination_id  TEXT NOT NULL,                    -- destinations.id
  state           TEXT NOT NULL
                  CHECK (state IN ('pending', 'failed', 'waiting', 'delivered', 'dead')),
                  -- pending: to attempt; failed: last attempt failed, a retry is scheduled at next_attempt_at;
                  -- waiting: destination paused or disabled, not attempted, resumes with it;
                  -- delivered: a 2xx was received; dead: permanent failure or retries exhausted
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,                          -- epoch ms; the sweeper re-enqueues rows well past it
  lease_until     INTEGER,                          -- epoch ms; a consumer is attempting it until then
  last_status     INTEGER,                          -- HTTP status of the last attempt (NULL: no response)
  last_error      TEXT,                             -- short reason of the last failure
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  PRIMARY KEY (event_uuid, destination_id)
) STRICT;

CREATE INDEX deliveries_destination_state ON deliveries (destination_id, state);
-- The sweeper's view: small, because rows leave it once delivered or dead.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');

CREATE TABLE delivery_attempts (
  id             INTEGER PRIMARY KEY,
  event_uuid     TEXT NOT NULL,
  destination_id TEXT NOT NULL,
  attempt        INTEGER NOT NULL,                  -- 1 for the first attempt
  attempted_at   INTEGER NOT NULL,                  -- epoch ms
  status         INTEGER,                           -- HTTP status, NULL when no response (timeout, network, refused)
  latency_ms     INTEGER NOT NULL,
  outcome        TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
  error          TEXT                               -- truncated; never a secret, a header or a body
) STRICT;

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (event_uuid, destination_id, attempt);

CREATE TABLE dead_letters (
  event_uuid     TEXT NOT NULL,
  destination_id TEXT NOT NULL,                     -- '' when the fan-out of the whole event failed
  reason         TEXT NOT NULL,
  attempts       INTEGER NOT NULL,
  recorded_at    INTEGER NOT NULL,
  PRIMARY KEY (event_uuid, destination_id)
) STRICT;
