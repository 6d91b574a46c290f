/**
 * Attempting one delivery (one event to one destination) and deciding what happens to its queue message:
 * ack (delivered, dead, waiting, or nothing to do) or retry after a delay (transient failure). Each delivery has
 * its own message, so one failing destination never delays or re-sends to another.
 *
 * Order of work: claim the delivery in D1 (a lease, so two copies of a message never send at once, and a stale
 * copy arriving long before the delivery is due is dropped), check the destination's state and URL, open its
 * sealed secrets (SECRETS_ENCRYPTION_KEY), send, then record the attempt, the delivery's new state and the
 * destination's failure count in one transaction — with the dead letter, when the delivery is dead.
 *
 * Secrets that cannot be opened (no key configured, or the key that sealed them was removed) are a transient
 * failure with no response: the attempt is recorded with the reason and retried with backoff, so restoring the key
 * delivers it; nothing is lost and nothing is sent unsigned.
 */
import type { Config } from "../config";
import { loadKeyring } from "../crypto/secret-box";
import type { Env } from "../env";
import { attemptRecord, decide, type AttemptOutcome } from "../forwarding/attempt";
import { buildDeliveryRequest } from "../forwarding/payload";
import { checkDestinationUrl } from "../forwarding/url-guard";
import { log } from "../log";
import { firstRow } from "../storage/d1";
import { getDestinationStatement, toDestination, type Destination, type DestinationRow, type DisableRule } from "../storage/destinations";
import {
  claimDeliveryStatement,
  deleteDelivery,
  markDeadWithLetter,
  markWaiting,
  recordAttempt,
  releaseDelivery,
  type DeliveryKey,
  type DeliveryRow,
} from "../storage/deliveries";
import { openDeliverySecrets } from "../storage/destination-secrets";
import { getEventStatement, toStoredEvent, type EventRow, type StoredEvent } from "../storage/events";
import { startingBy, StartedTooLate, type Limit } from "./limit";
import { enqueueDeliveries } from "./enqueue";
import { destinationDisabledAlertStatement, dispatchRaisedAlerts } from "./alert-raise";
import { raisedAlerts } from "../storage/alerts";
import { sendOnce } from "./send";

/** How long past its timeout a claimed delivery stays leased (covers the D1 writes after the attempt). */
export const LEASE_SLACK_MS = 30_000;
/**
 * A claimed delivery's send must begin within this long (half the lease's slack), or it is not made: its turn for
 * one of the invocation's connections waited behind slow destinations, and a send begun later could still run when
 * the lease ends, when a duplicate message may claim and send it too. It is given back and sent by a new message.
 */
export const SEND_START_MS = LEASE_SLACK_MS / 2;
/** How long such a delivery waits before its new message. */
export const SEND_LATE_DELAY_SECONDS = 5;
/** A message this much before its delivery's next_attempt_at is a stale duplicate, not the scheduled retry. */
export const EARLY_ARRIVAL_SLACK_MS = 30_000;

/** The auto-disable rule of the configuration (DESTINATION_DISABLE_AFTER_FAILURES and …_MINUTES). */
export function disableRuleOf(config: Config): DisableRule {
  return { afterFailures: config.forwarding.disableAfterFailures, afterMs: config.forwarding.disableAfterMs };
}

export type DeliveryDecision = { action: "ack"; outcome: string } | { action: "retry"; delaySeconds: number };

export interface ForwardDeps {
  env: Env;
  config: Config;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  /** [0, 1); injectable for tests. */
  random?: () => number;
  /** Bounds the invocation's simultaneous sends (src/queue/limit.ts); none: unbounded. */
  limit?: Limit;
}

function logKey(key: DeliveryKey) {
  return { eventUuid: key.eventUuid, destinationId: key.destinationId };
}

export async function forwardDelivery(deps: ForwardDeps, key: DeliveryKey): Promise<DeliveryDecision> {
  const { env, config } = deps;
  const now = deps.now?.() ?? Date.now();
  // One round trip before the attempt: the destination, the claim, and the event.
  const [destinationRead, claimed, eventRead] = await env.DB.batch([
    getDestinationStatement(env.DB, key.destinationId),
    claimDeliveryStatement(env.DB, key, now, LEASE_SLACK_MS, EARLY_ARRIVAL_SLACK_MS),
    getEventStatement(env.DB, key.eventUuid),
  ]);
  const destinationRow = firstRow<DestinationRow>(destinationRead);
  const delivery = firstRow<DeliveryRow>(claimed);
  if (!destinationRow) {
    // Deleting a destination deletes its deliveries; a row created in a race with the delete is removed here, so
    // the sweeper does not find it overdue forever.
    if (delivery) await deleteDelivery(env.DB, key);
    return { action: "ack", outcome: "destination_deleted" };
  }
  const destination = toDestination(destinationRow);
  if (!delivery) return { action: "ack", outcome: "not_due_or_done" };
  try {
    if (destination.state !== "active") {
      await markWaiting(env.DB, key, now);
      return { action: "ack", outcome: "waiting" };
    }
    const eventRow = firstRow<EventRow>(eventRead) ?? null;
    const event = eventRow ? toStoredEvent(eventRow) : null;
    if (!event) {
      const reason = "the event is no longer stored";
      await markDeadWithLetter(env.DB, { ...key, reason, attempts: delivery.attempts }, now);
      log("warn", "delivery dead", { ...logKey(key), reason });
      return { action: "ack", outcome: "dead" };
    }
    const attempt = delivery.attempts + 1;
    // A replay's run is sent with its own webhook-id; its outcome counts in its job (docs/forwarding.md "Replay").
    const sendsBy = deps.limit ? startingBy(deps.limit, now + SEND_START_MS, () => deps.now?.() ?? Date.now()) : undefined;
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptDelivery(config, destination, event, now, sendsBy, delivery.webhook_id);
    } catch (error) {
      if (!(error instanceof StartedTooLate)) throw error;
      // Not attempted, not counted: given back, and sent again by a new message (a retry of this one would use up
      // the platform's retries of the message).
      await releaseDelivery(env.DB, key, delivery.lease_until);
      await enqueueDeliveries(env.FORWARD_QUEUE, [{ uuid: key.eventUuid, destinationId: key.destinationId, delaySeconds: SEND_LATE_DELAY_SECONDS }]);
      log("warn", "delivery waited too long for a connection; sent again shortly", { ...logKey(key), delaySeconds: SEND_LATE_DELAY_SECONDS });
      return { action: "ack", outcome: "started_too_late" };
    }
    return await settle(deps, destination, { ...key, jobId: delivery.job_id }, attempt, outcome);
  } catch (error) {
    await releaseDelivery(env.DB, key, delivery.lease_until).catch(() => undefined);
    throw error;
  }
}

/**
 * Make one attempt of `event` to `destination`: refused by the URL guard, unable to open the secrets, or sent.
 * Never throws for the receiver. Shared by fan-out (first attempts) and retries.
 */
export async function attemptDelivery(
  config: Config,
  destination: Destination,
  event: StoredEvent,
  now: number,
  limit?: Limit,
  replayWebhookId: string | null = null,
): Promise<AttemptOutcome> {
  const urlCheck = checkDestinationUrl(destination.url, { allowInsecure: config.allowInsecureDestinations });
  if (!urlCheck.ok) return { kind: "refused", reason: urlCheck.message };
  const opened = await openDeliverySecrets(await loadKeyring(config.secretKeys), destination, now);
  if (!opened.ok) {
    const what = opened.column === "okta_auth_value" ? "okta auth value" : "signing secret";
    // Operator action needed (SECRETS_ENCRYPTION_KEY); the reason names no key and no value.
    log("error", "destination secret cannot be decrypted; will retry", {
      eventUuid: event.uuid,
      destinationId: destination.id,
      column: opened.column,
      reason: opened.reason,
    });
    return { kind: "secrets-unavailable", reason: `${what} cannot be decrypted: ${opened.reason}` };
  }
  const request = await buildDeliveryRequest(
    {
      uuid: event.uuid,
      eventType: event.eventType,
      // Okta always sends `published`; should one lack it, the receiving time is the next best answer.
      published: new Date(event.published ?? event.receivedAt).toISOString(),
      oktaOrg: event.oktaOrg,
      eventHookId: event.eventHookId,
      payload: event.payload,
    },
    {
      id: destination.id,
      format: destination.format,
      secrets: {
        current: opened.secrets.signingSecret,
        previous: opened.secrets.previousSigningSecret,
        previousExpiresAt: destination.previousSecretExpiresAt,
      },
      oktaAuthHeader: destination.oktaAuthHeader,
      oktaAuthValue: opened.secrets.oktaAuthValue,
    },
    now,
    replayWebhookId,
  );
  const send = () => sendOnce(urlCheck.url, request, destination.timeoutMs);
  return { kind: "sent", result: await (limit ? limit(send) : send()) };
}

/** Decide (pure, src/forwarding/attempt.ts), record the attempt and its consequences in one transaction, log. */
async function settle(
  deps: ForwardDeps,
  destination: Destination,
  key: DeliveryKey & { jobId: number | null },
  attempt: number,
  outcome: AttemptOutcome,
): Promise<DeliveryDecision> {
  const { env, config } = deps;
  const attemptedAt = deps.now?.() ?? Date.now();
  const decision = decide(outcome, {
    attempt,
    now: attemptedAt,
    baseSeconds: config.forwarding.retryBaseSeconds,
    random: deps.random?.() ?? Math.random(),
  });
  const record = attemptRecord(outcome);
  const base = { ...key, attempt, attemptedAt, status: record.status, latencyMs: record.latencyMs, error: record.error };
  const fields = { ...logKey(key), attempt, status: record.status ?? undefined, ms: record.latencyMs, jobId: key.jobId ?? undefined };

  if (decision.kind === "delivered") {
    await recordAttempt(env.DB, { ...base, outcome: "delivered", nextAttemptAt: null }, { disableRule: disableRuleOf(config) });
    log("info", "delivered", fields);
    return { action: "ack", outcome: "delivered" };
  }
  const retrying = decision.kind === "retry";
  const written = await recordAttempt(
    env.DB,
    {
      ...base,
      outcome: retrying ? "retry" : "dead",
      nextAttemptAt: retrying ? attemptedAt + decision.delaySeconds * 1000 : null,
      ...(!retrying && { deadReason: decision.reason }),
    },
    {
      disableRule: disableRuleOf(config),
      afterFailureCount: destinationDisabledAlertStatement(env.DB, config, destination.id, 1, attemptedAt),
    },
  );
  // This attempt's failure count disabled it: the statement stamps updated_at with the attempt's time only then.
  if (written.destination?.state === "disabled" && written.destination.updated_at === attemptedAt) {
    log("error", "destination disabled after consecutive failures", {
      destinationId: destination.id,
      name: destination.name,
      consecutiveFailures: written.destination.consecutive_failures,
    });
  }
  await dispatchRaisedAlerts(env.FORWARD_QUEUE, raisedAlerts([written.afterFailureCount]));
  if (retrying) {
    log("warn", "delivery failed; will retry", { ...fields, error: record.error ?? undefined, delaySeconds: decision.delaySeconds });
    return { action: "retry", delaySeconds: decision.delaySeconds };
  }
  // The dead letter was written in the same transaction as the dead state (recordAttempt): the one place it is written.
  log("warn", "delivery dead", { ...fields, reason: decision.reason });
  return { action: "ack", outcome: "dead" };
}
