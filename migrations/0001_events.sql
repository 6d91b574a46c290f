-- Migration 0001: the event store.
--
-- One row per Okta System Log event (an element of data.events[] in an event hook delivery), keyed by the
-- event's uuid, so a redelivered envelope or an event repeated in two envelopes is stored once
-- (INSERT … ON CONFLICT DO NOTHING). Columns hold what operators filter on; `payload` holds the event exactly as
-- Okta sent it. See docs/storage.md.

CREATE TABLE events (
  uuid               TEXT PRIMARY KEY,          -- LogEvent.uuid: the idempotency key
  event_type         TEXT NOT NULL,             -- LogEvent.eventType, e.g. user.lifecycle.create
  published          TEXT,                      -- LogEvent.published, canonical ISO-8601 UTC (sorts as text)
  actor_id           TEXT,                      -- LogEvent.actor.id
  actor_alternate_id TEXT,                      -- LogEvent.actor.alternateId (usually a login or email)
  outcome_result     TEXT,                      -- LogEvent.outcome.result: SUCCESS, FAILURE, DENY, …
  severity           TEXT,                      -- LogEvent.severity: DEBUG, INFO, WARN, ERROR
  okta_org           TEXT,                      -- host of the envelope source, e.g. acme.okta.com
  event_hook_id      TEXT,                      -- Okta event hook id from the envelope source
  envelope_event_id  TEXT,                      -- envelope eventId of the delivery that first brought it
  received_at        INTEGER NOT NULL,          -- when the gateway stored it, epoch milliseconds
  forward_state      TEXT NOT NULL DEFAULT 'pending'
                     CHECK (forward_state IN ('pending', 'enqueued', 'fanned_out', 'skipped')),
                                                -- pending: stored, not yet on the forward queue (the sweeper's
                                                -- outbox); enqueued: handed to the queue; fanned_out: its
                                                -- deliveries exist (see 0002); skipped: never forwarded
  enqueued_at        INTEGER,                   -- when it was (last) handed to the queue, epoch milliseconds
  payload            TEXT NOT NULL              -- the LogEvent JSON as received
) STRICT;

CREATE INDEX events_published ON events (published);
CREATE INDEX events_type_published ON events (event_type, published);
CREATE INDEX events_actor ON events (actor_id, published);
CREATE INDEX events_received ON events (received_at);
-- The outbox: small, because rows leave it as soon as they are enqueued.
CREATE INDEX events_outbox ON events (received_at) WHERE forward_state = 'pending';
-- Enqueued but not fanned out yet: small too; the sweeper re-enqueues rows that stay here too long (a lost message).
CREATE INDEX events_unfanned ON events (enqueued_at) WHERE forward_state = 'enqueued';
