/**
 * Destinations (table `destinations`, migrations/0002_forwarding.sql): plain functions over D1Database.
 *
 * Rows hold the signing secrets and the okta auth value sealed (AES-256-GCM, src/crypto/secret-box.ts; sealing and
 * opening: src/storage/destination-secrets.ts). These functions store and return the sealed text as it is; only the
 * forwarding path opens it, right before signing, and the admin API's view (src/http/admin/destination-view.ts)
 * never shows it.
 */
import type { PayloadFormat } from "../forwarding/payload";
import type { DestinationConditions } from "../okta/routing";

export type DestinationState = "active" | "paused" | "disabled";

export interface Destination {
  id: string;
  name: string;
  url: string;
  eventTypes: string[];
  conditions: DestinationConditions;
  format: PayloadFormat;
  sealedSigningSecret: string;
  sealedPreviousSigningSecret: string | null;
  previousSecretExpiresAt: number | null;
  oktaAuthHeader: string | null;
  sealedOktaAuthValue: string | null;
  timeoutMs: number;
  state: DestinationState;
  consecutiveFailures: number;
  disabledReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DestinationRow {
  id: string;
  name: string;
  url: string;
  event_types: string;
  conditions: string;
  format: PayloadFormat;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: number | null;
  okta_auth_header: string | null;
  okta_auth_value: string | null;
  timeout_ms: number;
  state: DestinationState;
  consecutive_failures: number;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

export function toDestination(row: DestinationRow): Destination {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    eventTypes: JSON.parse(row.event_types) as string[],
    conditions: JSON.parse(row.conditions) as DestinationConditions,
    format: row.format,
    sealedSigningSecret: row.signing_secret,
    sealedPreviousSigningSecret: row.previous_signing_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    oktaAuthHeader: row.okta_auth_header,
    sealedOktaAuthValue: row.okta_auth_value,
    timeoutMs: row.timeout_ms,
    state: row.state,
    consecutiveFailures: row.consecutive_failures,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A new destination id: `dst_` + 20 random hex digits. */
export function newDestinationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `dst_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function insertDestination(db: D1Database, d: Destination): Promise<void> {
  await db
    .prepare(
      `INSERT INTO destinations (id, name, url, event_types, conditions, format, signing_secret, previous_signing_secret,
         previous_secret_expires_at, okta_auth_header, okta_auth_value, timeout_ms, state, consecutive_failures,
         disabled_reason, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)`,
    )
    .bind(
      d.id, d.name, d.url, JSON.stringify(d.eventTypes), JSON.stringify(d.conditions), d.format, d.sealedSigningSecret,
      d.sealedPreviousSigningSecret, d.previousSecretExpiresAt, d.oktaAuthHeader, d.sealedOktaAuthValue, d.timeoutMs, d.state,
      d.consecutiveFailures, d.disabledReason, d.createdAt, d.updatedAt,
    )
    .run();
}

export function getDestinationStatement(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare("SELECT * FROM destinations WHERE id = ?1").bind(id);
}

export async function getDestination(db: D1Database, id: string): Promise<Destination | null> {
  const row = await getDestinationStatement(db, id).first<DestinationRow>();
  return row ? toDestination(row) : null;
}

/** At most `limit` destinations, oldest first. */
export function listDestinationsStatement(db: D1Database, limit: number): D1PreparedStatement {
  return db.prepare("SELECT * FROM destinations ORDER BY created_at, id LIMIT ?1").bind(limit);
}

export async function listDestinations(db: D1Database, limit: number): Promise<Destination[]> {
  const { results } = await listDestinationsStatement(db, limit).all<DestinationRow>();
  return results.map(toDestination);
}

/**
 * Every destination an event is routed to: active ones, and paused or disabled ones too, whose deliveries wait
 * (not attempted, not counted) until the destination is active again — so no event is lost while a receiver is
 * paused or was disabled after a run of failures.
 */
export function routableDestinationsStatement(db: D1Database): D1PreparedStatement {
  return db.prepare("SELECT * FROM destinations");
}

/**
 * Write the mutable columns of `d` (the caller merged the change) and answer the row as stored, or null when it is
 * gone. The state and its reason are written only with `writeState` (the change sets the state), and the failure
 * run (consecutive_failures, failing_since) is only ever reset (`resetFailures`, on a resume), never written back:
 * forwarding moves them on its own (src/queue/fan-out.ts, src/storage/deliveries.ts count failures and
 * auto-disable), and a rename must not write back the values it read before a failure was counted — that would
 * undo an auto-disable and restart the run.
 */
export async function saveDestination(
  db: D1Database,
  d: Destination,
  options: { writeState: boolean; resetFailures: boolean },
): Promise<Destination | null> {
  const row = await db
    .prepare(
      `UPDATE destinations SET name = ?2, url = ?3, event_types = ?4, conditions = ?5, format = ?6,
         okta_auth_header = ?7, okta_auth_value = ?8, timeout_ms = ?9,
         state = CASE WHEN ?14 THEN ?10 ELSE state END,
         consecutive_failures = CASE WHEN ?15 THEN 0 ELSE consecutive_failures END,
         failing_since = CASE WHEN ?15 THEN NULL ELSE failing_since END,
         disabled_reason = CASE WHEN ?14 THEN ?12 ELSE disabled_reason END,
         updated_at = ?13
       WHERE id = ?1
       RETURNING *`,
    )
    .bind(
      d.id, d.name, d.url, JSON.stringify(d.eventTypes), JSON.stringify(d.conditions), d.format, d.oktaAuthHeader,
      d.sealedOktaAuthValue, d.timeoutMs, d.state, null, d.disabledReason, d.updatedAt,
      options.writeState ? 1 : 0, options.resetFailures ? 1 : 0,
    )
    .first<DestinationRow>();
  return row ? toDestination(row) : null;
}

/**
 * Replace the signing secret (all values sealed by the caller). With a grace period the old secret, re-sealed for
 * its new column, keeps signing (a second signature) until `previousExpiresAt`; without one (null) it stops at
 * once. Only the secret just replaced is kept. The update applies only while the current secret is still
 * `expectedCurrent`, so two rotations at once cannot lose one: resolves false when the row is gone or changed.
 */
export async function rotateSigningSecret(
  db: D1Database,
  id: string,
  change: { expectedCurrent: string; sealedSecret: string; sealedPrevious: string | null; previousExpiresAt: number | null },
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE destinations SET signing_secret = ?3, previous_signing_secret = ?4, previous_secret_expires_at = ?5,
         updated_at = ?6
       WHERE id = ?1 AND signing_secret = ?2`,
    )
    .bind(id, change.expectedCurrent, change.sealedSecret, change.sealedPrevious, change.previousExpiresAt, now)
    .run();
  return result.meta.changes > 0;
}

/** Delete a destination with its deliveries, attempts and dead letters, in one transaction. */
export async function deleteDestination(db: D1Database, id: string): Promise<boolean> {
  const results = await db.batch([
    db.prepare("DELETE FROM delivery_attempts WHERE destination_id = ?1").bind(id),
    db.prepare("DELETE FROM deliveries WHERE destination_id = ?1").bind(id),
    db.prepare("DELETE FROM dead_letters WHERE destination_id = ?1").bind(id),
    db.prepare("DELETE FROM destinations WHERE id = ?1").bind(id),
  ]);
  return (results[3]?.meta.changes ?? 0) > 0;
}

/** Statement: a 2xx reset the run of failures (written only when there was one). */
export function resetFailuresStatement(db: D1Database, id: string): D1PreparedStatement {
  return db
    .prepare("UPDATE destinations SET consecutive_failures = 0, failing_since = NULL WHERE id = ?1 AND consecutive_failures <> 0")
    .bind(id);
}

/** When a run of failures disables a destination (DESTINATION_DISABLE_AFTER_FAILURES and …_MINUTES). */
export interface DisableRule {
  /** Consecutive failed attempts. */
  afterFailures: number;
  /** Ms since the first of them (0: the count alone). */
  afterMs: number;
}

/**
 * Statement: `failures` more failed attempts at `now`. An active destination is disabled when its run of failures
 * reaches `rule.afterFailures` attempts AND began at least `rule.afterMs` ago (`failing_since`, migration 0009):
 * both, so neither a hundred failures of a few seconds' blip nor one slow failure an hour disables it. RETURNING
 * the resulting state and count, and `updated_at` (= `now` exactly when this statement disabled it).
 */
export function countFailureStatement(db: D1Database, id: string, rule: DisableRule, now: number, failures = 1): D1PreparedStatement {
  // ?5 = 0 is the count alone, even for an attempt that settles after a later one began the run (its `now` is older).
  const disables = "state = 'active' AND consecutive_failures + ?4 >= ?2 AND (?5 = 0 OR ?3 - coalesce(failing_since, ?3) >= ?5)";
  return db
    .prepare(
      `UPDATE destinations SET
         consecutive_failures = consecutive_failures + ?4,
         failing_since = coalesce(failing_since, ?3),
         state = CASE WHEN ${disables} THEN 'disabled' ELSE state END,
         disabled_reason = CASE WHEN ${disables}
                                THEN 'disabled automatically after ' || CAST(consecutive_failures + ?4 AS INTEGER) || ' consecutive failed attempts'
                                     || CASE WHEN ?5 > 0 THEN ' over ' || CAST((?3 - failing_since) / 60000 AS INTEGER) || ' minutes' ELSE '' END
                                ELSE disabled_reason END,
         updated_at = CASE WHEN ${disables} THEN ?3 ELSE updated_at END
       WHERE id = ?1
       RETURNING state, consecutive_failures, updated_at`,
    )
    .bind(id, rule.afterFailures, now, failures, rule.afterMs);
}

export interface DisabledDestinationSummary {
  id: string;
  name: string;
  disabledReason: string | null;
  /** Epoch ms: when it became disabled (migrations/0008: kept by a trigger). */
  disabledAt: number | null;
  consecutiveFailures: number;
}

/** Statement for /healthz: disabled destinations (batched with the D1 ping, so health stays one round trip). */
export function disabledDestinationsStatement(db: D1Database, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT id, name, disabled_reason AS disabledReason, disabled_at AS disabledAt, consecutive_failures AS consecutiveFailures
       FROM destinations WHERE state = 'disabled' ORDER BY id LIMIT ?1`,
    )
    .bind(limit);
}
