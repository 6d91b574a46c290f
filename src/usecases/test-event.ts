/**
 * "Send test event": one synthetic, clearly marked event (type `gateway.test`) sent to a destination now, so an
 * operator can check a receiver's URL, signature verification and answer without waiting for Okta.
 *
 * It goes through the same attempt as forwarding (src/queue/forward.ts `attemptDelivery`): URL guard, the
 * destination's sealed secrets opened, the body in the destination's format, signed per Standard Webhooks (and
 * Okta's envelope with its auth header for `okta`), sent once with the destination's timeout, no redirect followed.
 * It records nothing: no event row, no delivery or attempt, the destination's failure count untouched — a test
 * never counts towards auto-disable and never shows up in searches or stats. The answer is the attempt's outcome.
 *
 * The destination's state and event-type filter do not apply: testing a paused or disabled destination before
 * resuming it is the point.
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { attemptRecord, decide } from "../forwarding/attempt";
import { deliveryMessageId } from "../forwarding/signing";
import { attemptDelivery } from "../queue/forward";
import { FORWARD, type StoredEvent } from "../storage/events";
import { findDestination } from "./destinations";

/** The event type of a test event: no Okta event type starts with `gateway.`. */
export const TEST_EVENT_TYPE = "gateway.test";

export interface TestEventDeps {
  env: Env;
  config: Config;
  /** Epoch ms. */
  now: number;
}

export interface TestEventResult {
  destinationId: string;
  eventUuid: string;
  eventType: typeof TEST_EVENT_TYPE;
  webhookId: string;
  /** What forwarding would make of this answer: delivered, retried, or dead (a permanent failure). */
  outcome: "delivered" | "retry" | "dead";
  status: number | null;
  latencyMs: number;
  error: string | null;
  attemptedAt: string;
}

/** A LogEvent-shaped body that says what it is: actor and target are the gateway and the destination. */
function testLogEvent(uuid: string, now: number, destination: { id: string; name: string }): string {
  return JSON.stringify({
    uuid,
    published: new Date(now).toISOString(),
    eventType: TEST_EVENT_TYPE,
    version: "0",
    severity: "INFO",
    displayMessage: "Test event sent by okta-hooks-edge (not from Okta); safe to ignore",
    actor: { id: "okta-hooks-edge", type: "SystemPrincipal", alternateId: "okta-hooks-edge", displayName: "okta-hooks-edge" },
    outcome: { result: "SUCCESS", reason: null },
    target: [{ id: destination.id, type: "Destination", alternateId: destination.name, displayName: destination.name }],
    debugContext: { debugData: { test: "true" } },
  });
}

export async function sendTestEvent(deps: TestEventDeps, destinationId: string): Promise<TestEventResult> {
  const destination = await findDestination(deps.env.DB, destinationId);
  const uuid = crypto.randomUUID();
  const event: StoredEvent = {
    id: 0,
    uuid,
    eventType: TEST_EVENT_TYPE,
    published: deps.now,
    actorId: "okta-hooks-edge",
    actorAlternateId: "okta-hooks-edge",
    outcomeResult: "SUCCESS",
    severity: "INFO",
    batchId: null,
    receivedAt: deps.now,
    forward: FORWARD.yes,
    oktaOrg: null,
    eventHookId: null,
    envelopeEventId: null,
    payload: testLogEvent(uuid, deps.now, destination),
  };
  const outcome = await attemptDelivery(deps.config, destination, event, deps.now);
  const record = attemptRecord(outcome);
  // Attempt 1 with a fixed jitter: only the kind of decision is reported, never a schedule.
  const decision = decide(outcome, { attempt: 1, now: deps.now, baseSeconds: deps.config.forwarding.retryBaseSeconds, random: 0.5 });
  return {
    destinationId: destination.id,
    eventUuid: uuid,
    eventType: TEST_EVENT_TYPE,
    webhookId: await deliveryMessageId(uuid, destination.id),
    outcome: decision.kind,
    status: record.status,
    latencyMs: record.latencyMs,
    error: record.error,
    attemptedAt: new Date(deps.now).toISOString(),
  };
}
