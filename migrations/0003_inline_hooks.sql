-- Migration 0003: inline hooks (PRODUCT 2C).
--
-- inline_rules          declarative rules, managed by /admin/api/rules, cached in each isolate
--                       (INLINE_RULES_CACHE_TTL_SECONDS) so the hot path reads no table
-- inline_lookup_entries values rules look up by key (claims, Okta user ids for import linking)
-- inline_hook_calls     the audit log: one row per inline hook call, written after the answer (waitUntil).
--                       It never holds passwords, OTP codes, tokens or claim values: only the shape of the
--                       decision (command types, patch paths, attribute names, enum values).
-- Forward-only; see docs/inline-hooks.md.

CREATE TABLE inline_rules (
  id          TEXT PRIMARY KEY,                 -- random UUID
  hook_type   TEXT NOT NULL CHECK (hook_type IN ('token', 'registration', 'password-import', 'saml',
                                                 'user-import', 'telephony')),
  kind        TEXT NOT NULL,                    -- e.g. registration.email-domain, token.claim
  name        TEXT,                             -- operator's label
  priority    INTEGER NOT NULL DEFAULT 100,     -- lower runs first
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  definition  TEXT NOT NULL,                    -- JSON, validated by the admin API per kind
  created_at  INTEGER NOT NULL,                 -- epoch milliseconds
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX inline_rules_type ON inline_rules (hook_type, priority, id);

CREATE TABLE inline_lookup_entries (
  table_name  TEXT NOT NULL,                    -- a rule's `table`
  lookup_key  TEXT NOT NULL,
  value       TEXT NOT NULL,                    -- JSON
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (table_name, lookup_key)
) STRICT;

CREATE TABLE inline_hook_calls (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  hook_type        TEXT NOT NULL,
  request_type     TEXT,                        -- registration/telephony requestType
  okta_request_id  TEXT,                        -- x-okta-request-id header, else data.context.request.id
  event_id         TEXT,                        -- the request's eventId
  decision         TEXT NOT NULL,               -- e.g. "empty", "error", "DENY", "VERIFIED", "patch", "FAILED"
  decided_by       TEXT NOT NULL,               -- "rules:<id>,<id>", "handler", "default", "fallback"
  fallback_reason  TEXT,                        -- deadline | handler_error | rule_error | invalid_response, or NULL
  commands         TEXT NOT NULL,               -- JSON array of command summaries (no values)
  status           INTEGER NOT NULL,            -- HTTP status we answered
  latency_ms       INTEGER NOT NULL,
  received_at      INTEGER NOT NULL             -- epoch milliseconds
) STRICT;

CREATE INDEX inline_hook_calls_received ON inline_hook_calls (received_at);
CREATE INDEX inline_hook_calls_type ON inline_hook_calls (hook_type, received_at);
