/**
 * How every statement reaches the events of a batch `b` (migrations/0010): through its uuid list, one primary-key
 * lookup each, with the batch id checked too. The list holds exactly the events the batch stores (the ingest writes
 * it, retention rewrites it when it purges some); the check costs nothing (the row is read anyway) and keeps out an
 * event of another batch should a list ever name one. Written after `event_batches b` and CROSS JOIN, which SQLite
 * never reorders: the join can never become a scan of `events`.
 */
export const BATCH_EVENTS = "json_each(b.uuids) j CROSS JOIN events e ON e.uuid = j.value AND e.batch_id = b.id";
