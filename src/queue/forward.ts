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
import { log } from "../log";
import { getDestinationStatement, toDestination, type Destination, type DestinationRow } from "../storage/destinations";
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
import { getEventStatement, type EventRow } from "../storage/events";
import { canRetry, classifyStatus, parseRetryAfter, retryDelaySeconds } from "../forwarding/backoff";
import { buildDeliveryRequest } from "../forwarding/payload";
import { sendOnce, type SendResult } from "./send";
import { checkDestinationUrl } from "../forwarding/url-guard";
import { firstRow } from "../storage/d1";

/** How long past its timeout a claimed delivery stays leased (covers the D1 writes after the attempt). */
export const LEASE_SLACK_MS = 30_000;
/** A message this much before its delivery's next_attempt_at is a stale duplicate, not the scheduled retry. */
export const EARLY_ARRIVAL_SLACK_MS = 30_000;

export type DeliveryDecision = { action: "ack"; outcome: string } | { action: "retry"; delaySeconds: number };

export interface ForwardDeps {
  env: Env;
  config: Config;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  /** [0, 1); injectable for tests. */
  random?: () => number;
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
    const event = firstRow<EventRow>(eventRead) ?? null;
    if (!event) {
      const reason = "the event is no longer stored";
      await markDeadWithLetter(env.DB, { ...key, reason, attempts: delivery.attempts }, now);
      log("warn", "delivery dead", { ...logKey(key), reason });
      return { action: "ack", outcome: "dead" };
    }
    const attempt = delivery.attempts + 1;
    const urlCheck = checkDestinationUrl(destination.url, { allowInsecure: config.allowInsecureDestinations });
    const opened = urlCheck.ok ? await openDeliverySecrets(await loadKeyring(config.secretKeys), destination, now) : null;
    let result: SendResult;
    if (!urlCheck.ok) {
      result = { status: null, error: `destination URL refused: ${urlCheck.message}`, retryAfter: null, latencyMs: 0 };
    } else if (!opened?.ok) {
      const reason = opened?.reason ?? "no_key";
      const what = opened?.column === "okta_auth_value" ? "okta auth value" : "signing secret";
      // Operator action needed (SECRETS_ENCRYPTION_KEY); the reason names no key and no value.
      log("error", "destination secret cannot be decrypted; will retry", { ...logKey(key), column: opened?.column, reason });
      result = { status: null, error: `${what} cannot be decrypted: ${reason}`, retryAfter: null, latencyMs: 0 };
    } else {
      const request = await buildDeliveryRequest(
        {
          uuid: event.uuid,
          eventType: event.event_type,
          // Okta always sends `published`; should one lack it, the receiving time is the next best answer.
          published: event.published ?? new Date(event.received_at).toISOString(),
          oktaOrg: event.okta_org,
          eventHookId: event.event_hook_id,
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
      );
      result = await sendOnce(urlCheck.url, request, destination.timeoutMs);
    }
    return await decide(deps, destination, key, attempt, result, urlCheck.ok);
  } catch (error) {
    await releaseDelivery(env.DB, key).catch(() => undefined);
    throw error;
  }
}

async function decide(
  deps: ForwardDeps,
  destination: Destination,
  key: DeliveryKey,
  attempt: number,
  result: SendResult,
  urlAllowed: boolean,
): Promise<DeliveryDecision> {
  const { env, config } = deps;
  const attemptedAt = deps.now?.() ?? Date.now();
  const verdict = urlAllowed ? classifyStatus(result.status) : "permanent";
  const base = { ...key, attempt, attemptedAt, status: result.status, latencyMs: result.latencyMs, error: result.error };
  const fields = { ...logKey(key), attempt, status: result.status ?? undefined, ms: result.latencyMs };

  if (verdict === "delivered") {
    await recordAttempt(env.DB, { ...base, outcome: "delivered", nextAttemptAt: null }, { disableAfterFailures: 0 });
    log("info", "delivered", fields);
    return { action: "ack", outcome: "delivered" };
  }

  const retrying = verdict === "transient" && canRetry(attempt);
  let delaySeconds = 0;
  if (retrying) {
    delaySeconds = retryDelaySeconds({
      failedAttempts: attempt,
      baseSeconds: config.forwarding.retryBaseSeconds,
      random: deps.random?.() ?? Math.random(),
      retryAfterSeconds: parseRetryAfter(result.retryAfter, attemptedAt),
    });
  }
  const reason = retrying
    ? undefined
    : verdict === "permanent"
      ? `permanent failure: ${result.error ?? "rejected"}`
      : `retries exhausted after ${attempt} attempts: ${result.error ?? "failed"}`;
  const written = await recordAttempt(
    env.DB,
    {
      ...base,
      outcome: retrying ? "retry" : "dead",
      nextAttemptAt: retrying ? attemptedAt + delaySeconds * 1000 : null,
      ...(reason !== undefined && { deadReason: reason }),
    },
    { disableAfterFailures: config.forwarding.disableAfterFailures },
  );
  if (
    written.destination?.state === "disabled" &&
    written.destination.consecutive_failures === config.forwarding.disableAfterFailures
  ) {
    log("error", "destination disabled after consecutive failures", {
      destinationId: destination.id,
      name: destination.name,
      consecutiveFailures: written.destination.consecutive_failures,
    });
  }
  if (retrying) {
    log("warn", "delivery failed; will retry", { ...fields, error: result.error ?? undefined, delaySeconds });
    return { action: "retry", delaySeconds };
  }
  // The dead letter was written in the same transaction as the dead state (recordAttempt): the one place it is written.
  log("warn", "delivery dead", { ...fields, reason });
  return { action: "ack", outcome: "dead" };
}
