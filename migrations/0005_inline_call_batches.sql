-- Migration 0005: the inline hook audit log, one D1 row per flush instead of one per call (docs/inline-hooks.md).
--
-- inline_call_batches  calls of one hook type, buffered in an isolate and written together: when 100 have
--                      gathered or INLINE_AUDIT_FLUSH_MS after the first (src/storage/inline-call-buffer.ts).
--                      `calls` is a JSON array of call records with the same fields inline_hook_calls had
--                      (camelCase, null fields left out): receivedAt, requestType, oktaRequestId, eventId,
--                      decision, decidedBy, fallbackReason, commands, status, latencyMs. Like before, never a
--                      password, OTP code, phone number, token or claim value: only the shape of the decision.
--                      first/last_received_at bound the calls' receivedAt; a row spans at most 60 s (the writer
--                      splits longer ones), so a time search can bound its index range on last_received_at.
--
-- One index, (hook_type, last_received_at): searches by type and time read only the rows they return (ties
-- ordered by rowid, which every index carries); a search over all types reads each type's range and merges
-- (src/storage/inline-calls.ts). One call used to write 3 rows (the row and two index entries); a batch of
-- 100 calls now writes 2.
--
-- inline_hook_calls is dropped: its rows move here, grouped by type and minute, at most 100 to a row.

CREATE TABLE inline_call_batches (
  id                 INTEGER PRIMARY KEY,
  hook_type          TEXT NOT NULL,             -- token, registration, password-import, saml, user-import, telephony
  first_received_at  INTEGER NOT NULL,          -- epoch ms, the earliest call's receivedAt
  last_received_at   INTEGER NOT NULL,          -- epoch ms, the latest call's receivedAt
  call_count         INTEGER NOT NULL,          -- entries in `calls`
  calls              TEXT NOT NULL              -- JSON array of call records (see above)
) STRICT;

CREATE INDEX inline_call_batches_type_time ON inline_call_batches (hook_type, last_received_at);

INSERT INTO inline_call_batches (hook_type, first_received_at, last_received_at, call_count, calls)
SELECT hook_type, min(received_at), max(received_at), count(*),
       json_group_array(json(record))
FROM (
  SELECT hook_type, received_at,
         json_object(
           'receivedAt', received_at, 'requestType', request_type, 'oktaRequestId', okta_request_id,
           'eventId', event_id, 'decision', decision, 'decidedBy', decided_by, 'fallbackReason', fallback_reason,
           'commands', json(commands), 'status', status, 'latencyMs', latency_ms
         ) AS record,
         received_at / 60000 AS minute,
         (row_number() OVER (PARTITION BY hook_type, received_at / 60000 ORDER BY received_at, id) - 1) / 100 AS chunk
  FROM inline_hook_calls
  ORDER BY hook_type, received_at, id
)
GROUP BY hook_type, minute, chunk
ORDER BY min(received_at);

DROP TABLE inline_hook_calls;
