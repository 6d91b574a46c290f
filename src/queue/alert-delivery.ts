/**
 * Sending one raised alert ({kind:"alert"} message) to its destination, and deciding what happens to the message:
 * ack (delivered, dead, nothing to do) or retry after a delay (transient failure).
 *
 * The alert is sent exactly as an event delivery is — URL guard, sealed secrets opened, the destination's format,
 * Standard Webhooks signature, same timeout and connection limit (attemptDelivery in ./forward.ts) — as an event
 * of type `gateway.alert` (src/forwarding/alert-event.ts) whose webhook-id is stable across retries and its own.
 * Its retries follow the same policy and schedule (src/forwarding/attempt.ts: 13 attempts over about two days), and
 * like a delivery's retry its send must begin within SEND_START_MS of the claim, or the alert is given back unsent
 * and sent by a new message: a send begun later could outlive the lease, when a copy of the message sends it too.
 *
 * What differs, on purpose:
 * - the outcome is recorded on the alert row only. It never counts toward the destination's consecutive failures,
 *   never resets them, and writes no delivery attempt or dead letter: an alert can neither disable a destination
 *   nor hide a failing one, and a failing alert destination cannot slow or block event forwarding;
 * - it is sent whatever the alert destination's state — active, paused or disabled. The operator chose it as the
 *   place alarms go; pausing its event traffic, or its being disabled, must not silence them (to stop alerts,
 *   blank ALERT_DESTINATION_ID). A destination that is not active gets a log line saying the alert went anyway;
 * - an alert whose destination was deleted is dead at once, logged at error level.
 */
import { alertEventText, alertUuid, ALERT_EVENT_TYPE } from "../forwarding/alert-event";
import { attemptRecord, decide, type AttemptOutcome } from "../forwarding/attempt";
import { log } from "../log";
import {
  alertDestinationStatement,
  claimAlertStatement,
  markAlertDead,
  recordAlertAttempt,
  releaseAlert,
  type AlertRow,
} from "../storage/alerts";
import { firstRow } from "../storage/d1";
import { toDestination, type DestinationRow } from "../storage/destinations";
import { FORWARD, type StoredEvent } from "../storage/events";
import { enqueueAlerts } from "./enqueue";
import { attemptDelivery, EARLY_ARRIVAL_SLACK_MS, LEASE_SLACK_MS, SEND_LATE_DELAY_SECONDS, SEND_START_MS, type DeliveryDecision, type ForwardDeps } from "./forward";
import { startingBy, StartedTooLate } from "./limit";

/** What sending needs: the same as a delivery's retry (env, config, and the clock, dice and connection limit). */
export type AlertDeliveryDeps = ForwardDeps;

/** The alert as the event attemptDelivery sends: the gateway's own, with no Okta org or hook behind it. */
function alertAsEvent(alert: AlertRow): StoredEvent {
  return {
    id: 0,
    uuid: alertUuid(alert.alert_key),
    eventType: ALERT_EVENT_TYPE,
    published: alert.raised_at,
    actorId: null,
    actorAlternateId: null,
    outcomeResult: null,
    severity: null,
    batchId: null,
    receivedAt: alert.raised_at,
    forward: FORWARD.yes,
    oktaOrg: null,
    eventHookId: null,
    envelopeEventId: null,
    payload: alertEventText({
      key: alert.alert_key,
      kind: alert.kind,
      subject: alert.subject,
      raisedAt: alert.raised_at,
      details: alert.details,
    }),
  };
}

export async function deliverAlert(deps: AlertDeliveryDeps, alertId: number): Promise<DeliveryDecision> {
  const { env, config } = deps;
  const now = deps.now?.() ?? Date.now();
  // One round trip before the attempt: the destination and the claim.
  const [destinationRead, claimed] = await env.DB.batch([
    alertDestinationStatement(env.DB, alertId),
    claimAlertStatement(env.DB, alertId, now, LEASE_SLACK_MS, EARLY_ARRIVAL_SLACK_MS),
  ]);
  const alert = firstRow<AlertRow>(claimed);
  if (!alert) return { action: "ack", outcome: "not_due_or_done" };
  const fields = { alertId, kind: alert.kind, subject: alert.subject, destinationId: alert.destination_id };
  try {
    const destinationRow = firstRow<DestinationRow>(destinationRead);
    if (!destinationRow) {
      const reason = "the alert destination no longer exists";
      await markAlertDead(env.DB, alertId, reason, now);
      log("error", "alert dead", { ...fields, reason });
      return { action: "ack", outcome: "dead" };
    }
    const destination = toDestination(destinationRow);
    if (destination.state !== "active") log("info", "alert sent to a destination that is not active", { ...fields, state: destination.state });
    const attempt = alert.attempts + 1;
    // Like a delivery's retry: a send whose turn for a connection comes later than SEND_START_MS after the claim
    // could still run when the lease ends, when a copy of the message (or the cron's resend) sends it too.
    const sendsBy = deps.limit ? startingBy(deps.limit, now + SEND_START_MS, () => deps.now?.() ?? Date.now()) : undefined;
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptDelivery(config, destination, alertAsEvent(alert), now, sendsBy);
    } catch (error) {
      if (!(error instanceof StartedTooLate)) throw error;
      await releaseAlert(env.DB, alertId, alert.lease_until);
      await enqueueAlerts(env.FORWARD_QUEUE, [alertId], SEND_LATE_DELAY_SECONDS);
      log("warn", "alert waited too long for a connection; sent again shortly", { ...fields, delaySeconds: SEND_LATE_DELAY_SECONDS });
      return { action: "ack", outcome: "started_too_late" };
    }
    const attemptedAt = deps.now?.() ?? Date.now();
    const decision = decide(outcome, {
      attempt,
      now: attemptedAt,
      baseSeconds: config.forwarding.retryBaseSeconds,
      random: deps.random?.() ?? Math.random(),
    });
    const record = attemptRecord(outcome);
    const base = { id: alertId, attempt, attemptedAt, status: record.status };
    const logged = { ...fields, attempt, status: record.status ?? undefined, ms: record.latencyMs };
    if (decision.kind === "delivered") {
      await recordAlertAttempt(env.DB, { ...base, outcome: "delivered", error: null, nextAttemptAt: null });
      log("info", "alert delivered", logged);
      return { action: "ack", outcome: "delivered" };
    }
    if (decision.kind === "retry") {
      const nextAttemptAt = attemptedAt + decision.delaySeconds * 1000;
      await recordAlertAttempt(env.DB, { ...base, outcome: "retry", error: record.error, nextAttemptAt });
      log("warn", "alert delivery failed; will retry", { ...logged, error: record.error ?? undefined, delaySeconds: decision.delaySeconds });
      return { action: "retry", delaySeconds: decision.delaySeconds };
    }
    await recordAlertAttempt(env.DB, { ...base, outcome: "dead", error: decision.reason, nextAttemptAt: null });
    log("error", "alert dead", { ...logged, reason: decision.reason });
    return { action: "ack", outcome: "dead" };
  } catch (error) {
    await releaseAlert(env.DB, alertId, alert.lease_until).catch(() => undefined);
    throw error;
  }
}
