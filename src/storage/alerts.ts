/**
 * Alerts (table `alerts`, migrations/0008_alerts.sql): plain functions over D1Database.
 *
 * An alert is raised by one INSERT that also decides whether it is raised at all: only when no alert of the same
 * kind about the same subject was raised within the cooldown (NOT EXISTS over `alerts_subject`). D1 runs one
 * statement at a time, so two raisers at once make one alert. The disable alert's INSERT goes in the very
 * transaction that counts the failure which disabled the destination, and fires only when that count crossed the
 * threshold at this moment: one alert per disable, none per later failed attempt, and never a disable without its
 * alert.
 *
 * Delivery then follows an event delivery's state machine on the alert row itself — claimed with a lease, one
 * attempt, then delivered, failed (a retry scheduled) or dead — without touching the destination's failure count,
 * so alerts can never disable a destination or reset one.
 */
import type { AlertKind } from "../forwarding/alert-event";
import { allRows } from "./d1";

export type AlertState = "pending" | "failed" | "delivered" | "dead";

export interface AlertRow {
  id: number;
  alert_key: string;
  kind: AlertKind;
  subject: string;
  raised_at: number;
  details: string;
  destination_id: string;
  state: AlertState;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  updated_at: number;
}

/** Where an alert goes and how often the same one may be raised (from AlertConfig). */
export interface AlertTarget {
  destinationId: string;
  cooldownMs: number;
}

/** 32 random hex digits, in SQL (the key of an alert raised inside another statement's transaction). */
const NEW_KEY = "lower(hex(randomblob(16)))";

/** An alert a raise statement inserted (its RETURNING row). */
export interface RaisedAlert {
  id: number;
  kind: AlertKind;
  subject: string;
}

/** The alerts these raise statements' results say they inserted. */
export function raisedAlerts(results: ReadonlyArray<D1Result<unknown> | undefined>): RaisedAlert[] {
  return results.flatMap((result) => allRows<RaisedAlert>(result));
}

/**
 * Statement: raise a destination.disabled alert about `destinationId` if the failure count just written (by
 * countFailureStatement, earlier in the same transaction, with the same `now`) disabled it: it is disabled since
 * `now` (migration 0008's trigger) with a run of at least `disableAfter` failures, these `failuresCounted` among
 * them (the run may have passed the count before it had lasted DESTINATION_DISABLE_AFTER_MINUTES). RETURNING the
 * alert (id, kind, subject), or nothing.
 */
export function raiseDestinationDisabledStatement(
  db: D1Database,
  input: { destinationId: string; disableAfter: number; failuresCounted: number; now: number; target: AlertTarget },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO alerts (alert_key, kind, subject, raised_at, details, destination_id, state, next_attempt_at, updated_at)
       SELECT ${NEW_KEY}, 'destination.disabled', d.id, ?3,
              json_object('destinationName', d.name, 'reason', d.disabled_reason, 'consecutiveFailures', d.consecutive_failures),
              ?5, 'pending', ?3, ?3
       FROM destinations d
       WHERE d.id = ?1 AND d.state = 'disabled' AND d.disabled_at = ?3
         AND d.consecutive_failures >= ?2 AND d.consecutive_failures >= ?4
         AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.kind = 'destination.disabled' AND a.subject = d.id AND a.raised_at > ?3 - ?6)
       RETURNING id, kind, subject`,
    )
    .bind(input.destinationId, input.disableAfter, input.now, input.failuresCounted, input.target.destinationId, input.target.cooldownMs);
}

/** Statement: raise an alert of `kind` about `subject` with these details, unless one was raised within the cooldown. */
export function raiseAlertStatement(
  db: D1Database,
  input: { kind: AlertKind; subject: string; details: unknown; now: number; target: AlertTarget },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO alerts (alert_key, kind, subject, raised_at, details, destination_id, state, next_attempt_at, updated_at)
       SELECT ${NEW_KEY}, ?1, ?2, ?3, ?4, ?5, 'pending', ?3, ?3
       WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE kind = ?1 AND subject = ?2 AND raised_at > ?3 - ?6)
       RETURNING id, kind, subject`,
    )
    .bind(input.kind, input.subject, input.now, JSON.stringify(input.details), input.target.destinationId, input.target.cooldownMs);
}

/**
 * Statement: take the right to send an alert for its destination's timeout plus `leaseSlackMs` (30 s when the
 * destination is gone): only while it is to send, nobody holds it, and it is due (a message arriving well before
 * `next_attempt_at` is a stale duplicate). RETURNING no row means not taken.
 */
export function claimAlertStatement(db: D1Database, id: number, now: number, leaseSlackMs: number, earlySlackMs: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE alerts
       SET lease_until = ?2 + ?3 + coalesce((SELECT timeout_ms FROM destinations WHERE id = alerts.destination_id), 30000),
           updated_at = ?2
       WHERE id = ?1 AND state IN ('pending', 'failed') AND (lease_until IS NULL OR lease_until <= ?2)
         AND (next_attempt_at IS NULL OR next_attempt_at <= ?2 + ?4)
       RETURNING *`,
    )
    .bind(id, now, leaseSlackMs, earlySlackMs);
}

/** Statement: the destination an alert goes to (no row when it was deleted). */
export function alertDestinationStatement(db: D1Database, id: number): D1PreparedStatement {
  return db.prepare("SELECT * FROM destinations WHERE id = (SELECT destination_id FROM alerts WHERE id = ?1)").bind(id);
}

export interface AlertAttempt {
  id: number;
  attempt: number;
  attemptedAt: number;
  outcome: "delivered" | "retry" | "dead";
  status: number | null;
  /** Short, secret-free; null on success. For "dead", the reason it was given up. */
  error: string | null;
  /** For "retry": when the next attempt is due. */
  nextAttemptAt: number | null;
}

/** Record one attempt's outcome on the alert (and give its lease back). */
export async function recordAlertAttempt(db: D1Database, a: AlertAttempt): Promise<void> {
  const state: AlertState = a.outcome === "delivered" ? "delivered" : a.outcome === "retry" ? "failed" : "dead";
  await db
    .prepare(
      `UPDATE alerts SET state = ?2, attempts = ?3, next_attempt_at = ?4, lease_until = NULL, last_status = ?5,
         last_error = ?6, updated_at = ?7, delivered_at = CASE WHEN ?2 = 'delivered' THEN ?7 ELSE delivered_at END
       WHERE id = ?1`,
    )
    .bind(a.id, state, a.attempt, a.nextAttemptAt, a.status, a.error, a.attemptedAt)
    .run();
}

/** Give up an alert without an attempt (its destination is gone): dead, with the reason. */
export async function markAlertDead(db: D1Database, id: number, reason: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE alerts SET state = 'dead', lease_until = NULL, last_error = ?2, updated_at = ?3 WHERE id = ?1 AND state <> 'delivered'")
    .bind(id, reason, now)
    .run();
}

/**
 * Give a claimed alert back without an attempt (the consumer failed before sending, or its send could not begin in
 * time) — with `heldLease` (the lease_until its claim wrote) only while it is still that lease: once it has run out,
 * a copy of the message may have claimed the alert and be sending it.
 */
export async function releaseAlert(db: D1Database, id: number, heldLease: number | null = null): Promise<void> {
  await db.prepare("UPDATE alerts SET lease_until = NULL WHERE id = ?1 AND (?2 IS NULL OR lease_until = ?2)").bind(id, heldLease).run();
}

/**
 * Statement: alerts to send whose time came more than `graceMs` ago (their queue message was lost, or its send
 * failed), oldest first, at most `limit`, marked due now so the next run does not take them again at once; one a
 * consumer holds a live lease on is left alone. Through `alerts_due`. RETURNING their ids.
 */
export function takeLostAlertsStatement(db: D1Database, now: number, graceMs: number, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE alerts SET next_attempt_at = ?1, updated_at = ?1
       WHERE id IN (SELECT id FROM alerts
                    WHERE state IN ('pending', 'failed') AND next_attempt_at < ?1 - ?2
                      AND (lease_until IS NULL OR lease_until <= ?1)
                    ORDER BY next_attempt_at LIMIT ?3)
       RETURNING id`,
    )
    .bind(now, graceMs, limit);
}

/**
 * Statement: delete finished alerts (delivered or dead) raised before `before`, at most `limit`, oldest first.
 * Ids grow with time, so the scan starts at the old end and stops after `limit` rows to delete.
 */
export function purgeAlertsStatement(db: D1Database, before: number, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE raised_at < ?1 AND state IN ('delivered', 'dead')
                                       ORDER BY id LIMIT ?2)`,
    )
    .bind(before, limit);
}

/** An alert as /healthz lists it. */
export interface RecentAlertRow {
  id: number;
  kind: AlertKind;
  subject: string;
  raised_at: number;
  destination_id: string;
  state: AlertState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

/** Statement: the newest `limit` alerts, newest first (by primary key: `limit` rows read). */
export function recentAlertsStatement(db: D1Database, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT id, kind, subject, raised_at, destination_id, state, attempts, last_status, last_error, delivered_at
       FROM alerts ORDER BY id DESC LIMIT ?1`,
    )
    .bind(limit);
}
