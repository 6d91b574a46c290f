/**
 * The destination.disabled alert (docs/operations.md "Alerts", docs/forwarding.md "Auto-disable"): raised in the
 * transaction whose failure count disables a destination — by a fan-out's first attempts or by a retry — exactly
 * once per disable, not once per failed attempt, deduplicated within the cooldown, and sent through the forward
 * queue to the alert destination signed like any delivery (verified with `standardwebhooks`), in its format, with
 * nothing secret in it. With ALERT_DESTINATION_ID blank nothing of this runs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { alertUuid } from "../../src/forwarding/alert-event";
import { deliveryMessageId } from "../../src/forwarding/signing";
import type { ForwardMessage } from "../../src/queue/messages";
import { raiseDestinationDisabledStatement } from "../../src/storage/alerts";
import { recordAttempt } from "../../src/storage/deliveries";
import { alertRows, alertsOn, startEachTestClean, verifiedAlert } from "../helpers/alerts";
import {
  adminCall,
  attempt,
  consume,
  createDestination,
  envWith,
  FORWARD_QUEUE_NAME,
  oktaDelivery,
  openDeliveries,
  postOktaDelivery,
  recordingQueue,
  storeEvent,
  stubDestinations,
  type CapturedRequest,
} from "../helpers/forwarding";
import { TEST_SECRETS_ENCRYPTION_KEY } from "../test-config";

const ALERT_URL = "https://alerts.example.com/hook";
const CRM_URL = "https://crm.example.com/okta/secret-path-token";

startEachTestClean();

/** The alert destination (alerts only) and a destination whose receiver is down. */
async function setUp(alertInput: Record<string, unknown> = {}) {
  const target = await createDestination({ name: "on-call", url: ALERT_URL, eventTypes: ["gateway.alert"], ...alertInput });
  const crm = await createDestination({ name: "crm", url: CRM_URL });
  const alertRequests: CapturedRequest[] = [];
  stubDestinations((request) => {
    if (request.url.startsWith(ALERT_URL)) {
      alertRequests.push(request);
      return new Response(null, { status: 204 });
    }
    return new Response("down", { status: 503 });
  });
  return { target, crm, alertRequests };
}

/** Store one Okta delivery of `n` events; its batch's fan-out is what the test then consumes. */
async function storeBatch(n: number): Promise<number> {
  const { envelope, uuids } = oktaDelivery("user.session.start", Array.from({ length: n }, () => ({})));
  expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
  const row = await env.DB.prepare("SELECT batch_id FROM events WHERE uuid = ?1").bind(uuids[0]).first<{ batch_id: number }>();
  return row!.batch_id;
}

/**
 * Two failed attempts already counted against each of `ids`: a fan-out's first attempts to a destination count as
 * one failed attempt (src/queue/fan-out.ts), so the next fan-out's is the third — DESTINATION_DISABLE_AFTER_FAILURES
 * in these tests.
 */
async function failedTwice(...ids: string[]): Promise<void> {
  for (const id of ids) await env.DB.prepare("UPDATE destinations SET consecutive_failures = 2 WHERE id = ?1").bind(id).run();
}

const alertMessages = (sent: ForwardMessage[]) => sent.filter((m): m is Extract<ForwardMessage, { kind: "alert" }> => m.kind === "alert");

describe("a fan-out whose first attempts disable a destination", () => {
  it("raises one alert in the same commit, enqueues it once, and the alert destination gets it signed", async () => {
    const { target, crm, alertRequests } = await setUp();
    const batchId = await storeBatch(5);
    await failedTwice(crm.id);
    const before = Date.now();
    const { result, forwarded } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId }], { env: alertsOn(target.id, 3) });
    expect(result.explicitAcks).toHaveLength(1);
    // The batch's five failed first attempts count as one, the third: the destination crossed 3 once, so one alert.
    const destination = await env.DB.prepare("SELECT state, consecutive_failures, disabled_at FROM destinations WHERE id = ?1")
      .bind(crm.id)
      .first<{ state: string; consecutive_failures: number; disabled_at: number }>();
    expect(destination).toMatchObject({ state: "disabled", consecutive_failures: 3 });
    const [alert, ...more] = await alertRows();
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ kind: "destination.disabled", subject: crm.id, destination_id: target.id, state: "pending", attempts: 0 });
    expect(alert!.raised_at).toBe(destination!.disabled_at);
    expect(alert!.raised_at).toBeGreaterThanOrEqual(before);
    expect(alertMessages(forwarded)).toEqual([{ kind: "alert", alertId: alert!.id }]);
    expect(alertRequests).toEqual([]); // sent through the queue, not inside the fan-out

    const sent = await consume(FORWARD_QUEUE_NAME, alertMessages(forwarded));
    expect(sent.result.explicitAcks).toHaveLength(1);
    expect(alertRequests).toHaveLength(1);
    const request = alertRequests[0]!;
    const received = verifiedAlert(request, target.secret);
    expect(request.headers.get("webhook-id")).toBe(await deliveryMessageId(alertUuid(alert!.alert_key), target.id));
    expect(received).toEqual({
      type: "gateway.alert",
      timestamp: new Date(alert!.raised_at).toISOString(),
      data: {
        uuid: alertUuid(alert!.alert_key),
        published: new Date(alert!.raised_at).toISOString(),
        eventType: "gateway.alert",
        severity: "ERROR",
        displayMessage: `Destination "crm" (${crm.id}) was disabled: disabled automatically after 3 consecutive failed attempts; its deliveries wait until it is re-enabled`,
        kind: "destination.disabled",
        subject: { type: "destination", id: crm.id, name: "crm" },
        reason: "disabled automatically after 3 consecutive failed attempts",
        raisedAt: new Date(alert!.raised_at).toISOString(),
        figures: { consecutiveFailures: 3 },
      },
    });
    // Nothing secret: no signing secret, no encryption key, no destination URL (its path can hold a token).
    for (const secret of [target.secret, crm.secret, TEST_SECRETS_ENCRYPTION_KEY, CRM_URL, "secret-path-token", ALERT_URL]) {
      expect(request.body).not.toContain(secret);
    }
    expect((await alertRows())[0]).toMatchObject({ state: "delivered", attempts: 1, last_status: 204, last_error: null });
    // The alert destination's own failure run is untouched.
    const targetRow = await env.DB.prepare("SELECT state, consecutive_failures FROM destinations WHERE id = ?1").bind(target.id).first();
    expect(targetRow).toEqual({ state: "active", consecutive_failures: 0 });

    // A duplicate of the alert message sends nothing more.
    await consume(FORWARD_QUEUE_NAME, alertMessages(forwarded));
    expect(alertRequests).toHaveLength(1);
  });

  it("a later fan-out to the disabled destination waits and raises nothing", async () => {
    const { target, crm } = await setUp();
    await failedTwice(crm.id);
    await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(3) }], { env: alertsOn(target.id, 3) });
    const second = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(4) }], { env: alertsOn(target.id, 3) });
    expect(alertMessages(second.forwarded)).toEqual([]);
    expect((await alertRows()).map((a) => a.subject)).toEqual([crm.id]);
  });

  it("with ALERT_DESTINATION_ID blank, the destination is disabled and no alert is raised or sent", async () => {
    const { crm, alertRequests } = await setUp();
    await failedTwice(crm.id);
    const { forwarded } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(3) }], {
      env: { DESTINATION_DISABLE_AFTER_FAILURES: "3", DESTINATION_DISABLE_AFTER_MINUTES: "0" },
    });
    expect((await env.DB.prepare("SELECT state FROM destinations WHERE id = ?1").bind(crm.id).first())?.state).toBe("disabled");
    expect(alertMessages(forwarded)).toEqual([]);
    expect(await alertRows()).toEqual([]);
    expect(alertRequests).toEqual([]);
  });

  it("an alert destination in Okta's format gets the alert in Okta's envelope with its auth header, signed too", async () => {
    const { target, crm, alertRequests } = await setUp({ format: "okta", oktaAuth: { header: "x-alert-key", value: "alert-receiver-key" } });
    await failedTwice(crm.id);
    const { forwarded } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(3) }], { env: alertsOn(target.id, 3) });
    await consume(FORWARD_QUEUE_NAME, alertMessages(forwarded));
    const request = alertRequests[0]!;
    expect(request.headers.get("x-alert-key")).toBe("alert-receiver-key");
    const envelope = verifiedAlert(request, target.secret) as unknown as {
      eventType: string;
      eventId: string;
      data: { events: Array<{ eventType: string; kind: string; subject: { id: string } }> };
    };
    expect(envelope.eventType).toBe("com.okta.event_hook");
    expect(request.headers.get("idempotency-key")).toBe(envelope.eventId);
    expect(envelope.data.events).toEqual([expect.objectContaining({ eventType: "gateway.alert", kind: "destination.disabled", subject: expect.objectContaining({ id: crm.id }) })]);
    expect(request.body).not.toContain("alert-receiver-key");
  });
});

describe("retries that disable a destination", () => {
  it("raise the alert once, on the attempt that reached the threshold", async () => {
    const { target, crm } = await setUp();
    const uuids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const uuid = await storeEvent();
      await openDeliveries(uuid);
      uuids.push(uuid);
    }
    const raisedBy: number[] = [];
    for (const [i, uuid] of uuids.entries()) {
      const { forwarded } = await attempt(uuid, crm.id, { env: alertsOn(target.id, 3) });
      if (alertMessages(forwarded).length > 0) raisedBy.push(i + 1);
    }
    expect(raisedBy).toEqual([3]);
    const alerts = await alertRows();
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]!.details)).toEqual({
      destinationName: "crm",
      reason: "disabled automatically after 3 consecutive failed attempts",
      consecutiveFailures: 3,
    });
  });

  it("a failure counted after the disable (an attempt that was in flight) raises nothing", async () => {
    const { target, crm } = await setUp();
    await failedTwice(crm.id);
    await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(3) }], { env: alertsOn(target.id, 3) });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const now = Date.now() + 5;
    const written = await recordAttempt(
      env.DB,
      { eventUuid: uuid, destinationId: crm.id, attempt: 1, attemptedAt: now, status: 503, latencyMs: 3, outcome: "retry", error: "HTTP 503", nextAttemptAt: now + 5000 },
      {
        disableRule: { afterFailures: 3, afterMs: 0 },
        afterFailureCount: raiseDestinationDisabledStatement(env.DB, {
          destinationId: crm.id,
          disableAfter: 3,
          failuresCounted: 1,
          now,
          target: { destinationId: target.id, cooldownMs: 0 },
        }),
      },
    );
    expect(written.destination).toMatchObject({ state: "disabled", consecutive_failures: 4 });
    expect(written.destination?.updated_at).toBeLessThan(now);
    expect(written.afterFailureCount?.results).toEqual([]);
    expect(await alertRows()).toHaveLength(1);
  });
});

describe("the cooldown", () => {
  it("a destination disabled again within ALERT_COOLDOWN_MINUTES gets no second alert; after it, a new one", async () => {
    const { target, crm } = await setUp();
    const disable = async () => {
      await failedTwice(crm.id);
      const { forwarded } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(3) }], { env: alertsOn(target.id, 3) });
      expect((await env.DB.prepare("SELECT state FROM destinations WHERE id = ?1").bind(crm.id).first())?.state).toBe("disabled");
      return alertMessages(forwarded);
    };
    expect(await disable()).toHaveLength(1);
    // The operator re-enables it; it fails again at once.
    expect((await adminCall("PATCH", `/destinations/${crm.id}`, { state: "active" })).status).toBe(200);
    const log = vi.spyOn(console, "error");
    expect(await disable()).toEqual([]);
    // The disable itself is still logged: only the alert is deduplicated.
    expect(log.mock.calls.map((c) => JSON.parse(String(c[0])).msg)).toContain("destination disabled after consecutive failures");
    expect(await alertRows()).toHaveLength(1);

    // The first alert is now older than the cooldown (60 minutes by default).
    await env.DB.prepare("UPDATE alerts SET raised_at = raised_at - 61 * 60000").run();
    await adminCall("PATCH", `/destinations/${crm.id}`, { state: "active" });
    expect(await disable()).toHaveLength(1);
    expect((await alertRows()).map((a) => a.subject)).toEqual([crm.id, crm.id]);
  });

  it("another destination disabled within the cooldown gets its own alert (the cooldown is per subject)", async () => {
    const { target, crm } = await setUp();
    const erp = await createDestination({ name: "erp", url: "https://erp.example.com/okta" });
    await failedTwice(crm.id, erp.id);
    const { forwarded } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await storeBatch(3) }], { env: alertsOn(target.id, 3) });
    expect(alertMessages(forwarded)).toHaveLength(2);
    expect((await alertRows()).map((a) => a.subject).sort()).toEqual([crm.id, erp.id].sort());
  });
});
