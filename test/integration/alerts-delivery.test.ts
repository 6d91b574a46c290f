/**
 * Sending a raised alert through the forward queue (docs/operations.md "Alerts"): a failing alert destination is
 * retried on the delivery schedule with the same webhook-id, a permanent failure or an exhausted schedule ends
 * dead (logged, and /healthz says so), a deleted destination ends it at once; two copies of a message send once;
 * the alert destination's own failure run, deliveries and dead letters are never touched; it is sent whatever the
 * alert destination's state; and an alert that fails never disturbs event forwarding in the same queue batch.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { alertRows, raiseBacklogAlert, startEachTestClean, verifiedAlert } from "../helpers/alerts";
import {
  adminCall,
  consume,
  createDestination,
  DEAD_LETTER_QUEUE_NAME,
  FORWARD_QUEUE_NAME,
  firstAttemptDeliveries,
  message,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  envWith,
  runWorkerQueue,
  stubDestinations,
  batchOf,
  type CapturedRequest,
} from "../helpers/forwarding";
import { request } from "../helpers/gateway";
import { countRows } from "../helpers/worker";

const ALERT_URL = "https://alerts.example.com/hook";

startEachTestClean();

/** The alert destination answers with `status` (one after another when a list). */
function alertReceiver(statuses: number[]) {
  const received: CapturedRequest[] = [];
  const { spy } = stubDestinations((request) => {
    if (!request.url.startsWith(ALERT_URL)) return new Response(null, { status: 204 });
    received.push(request);
    return new Response(null, { status: statuses[Math.min(received.length - 1, statuses.length - 1)] });
  });
  return { received, spy };
}

const alertMessage = (alertId: number, attempts = 1) => message({ kind: "alert" as const, alertId }, attempts);

describe("an alert destination that fails", () => {
  it("is retried with backoff and the same webhook-id until it accepts; its own failure run is never touched", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL, eventTypes: ["gateway.alert"] });
    const alertId = await raiseBacklogAlert(target.id);
    const { received } = alertReceiver([503, 204]);

    const first = await runWorkerQueue(FORWARD_QUEUE_NAME, [alertMessage(alertId)]);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(1);
    // FORWARD_RETRY_BASE_SECONDS = 5 with ±20 % jitter, as any delivery.
    expect(first.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(4);
    expect(first.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(6);
    const failed = (await alertRows())[0]!;
    expect(failed).toMatchObject({ state: "failed", attempts: 1, last_status: 503, last_error: "HTTP 503" });
    expect(failed.next_attempt_at! - Date.now()).toBeGreaterThan(2_000);

    // The retry arrives when due (pretend its delay passed).
    await env.DB.prepare("UPDATE alerts SET next_attempt_at = ?1").bind(Date.now()).run();
    const second = await runWorkerQueue(FORWARD_QUEUE_NAME, [alertMessage(alertId, 2)]);
    expect(second.retryMessages).toEqual([]);
    expect(received).toHaveLength(2);
    expect(received[1]!.headers.get("webhook-id")).toBe(received[0]!.headers.get("webhook-id"));
    for (const r of received) expect(verifiedAlert(r, target.secret).data.kind).toBe("backlog.late");
    expect((await alertRows())[0]).toMatchObject({ state: "delivered", attempts: 2, last_status: 204, last_error: null });

    const targetRow = await env.DB.prepare("SELECT state, consecutive_failures FROM destinations WHERE id = ?1").bind(target.id).first();
    expect(targetRow).toEqual({ state: "active", consecutive_failures: 0 });
    expect(await countRows("delivery_attempts")).toBe(0);
    expect(await countRows("deliveries")).toBe(0);
    expect(await countRows("dead_letters")).toBe(0);
  });

  it("a permanent failure is dead at once, logged at error level, and /healthz is degraded until a day has passed", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    const alertId = await raiseBacklogAlert(target.id);
    alertReceiver([404]);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { result } = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await alertRows())[0]).toMatchObject({ state: "dead", attempts: 1, last_status: 404, last_error: "permanent failure: HTTP 404" });
    const line = errors.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "alert dead");
    expect(line).toMatchObject({ alertId, kind: "backlog.late", destinationId: target.id, reason: "permanent failure: HTTP 404" });
    errors.mockRestore();

    const health = (await (await request("/healthz", { as: "admin", env: { ALERT_DESTINATION_ID: target.id } })).json()) as { status: string; problems: string[] };
    expect(health.status).toBe("degraded");
    expect(health.problems).toEqual([expect.stringContaining(`An alert could not be delivered to its destination (alert ${alertId}, backlog.late`)]);
  });

  it("is dead after the schedule's last attempt (13)", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    const alertId = await raiseBacklogAlert(target.id);
    await env.DB.prepare("UPDATE alerts SET attempts = 12, state = 'failed'").run();
    alertReceiver([503]);
    const { result } = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await alertRows())[0]).toMatchObject({ state: "dead", attempts: 13, last_error: "retries exhausted after 13 attempts: HTTP 503" });
  });

  it("an alert whose destination was deleted is dead at once, and nothing is sent", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    const alertId = await raiseBacklogAlert(target.id);
    expect((await adminCall("DELETE", `/destinations/${target.id}`)).status).toBe(204);
    const { received } = alertReceiver([204]);
    const { result } = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(received).toEqual([]);
    expect((await alertRows())[0]).toMatchObject({ state: "dead", last_error: "the alert destination no longer exists" });
  });

  it("without a usable SECRETS_ENCRYPTION_KEY nothing is sent unsigned: the alert waits for its retry", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    const alertId = await raiseBacklogAlert(target.id);
    const { received } = alertReceiver([204]);
    const { result } = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }], { env: { SECRETS_ENCRYPTION_KEY: "" } });
    expect(result.retryMessages).toHaveLength(1);
    expect(received).toEqual([]);
    expect((await alertRows())[0]).toMatchObject({ state: "failed", attempts: 1, last_error: "signing secret cannot be decrypted: no_key" });
  });
});

describe("sending an alert", () => {
  it("two copies of its message in one batch send it once; a copy arriving long before its retry sends nothing", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    const alertId = await raiseBacklogAlert(target.id);
    const { received } = alertReceiver([503]);
    await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }, { kind: "alert", alertId }]);
    expect(received).toHaveLength(1);
    // Its retry is due in an hour (a later retry's delay): a stale copy now is not the retry.
    await env.DB.prepare("UPDATE alerts SET next_attempt_at = next_attempt_at + 3600000").run();
    await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
    expect(received).toHaveLength(1);
    expect((await alertRows())[0]!.attempts).toBe(1);
  });

  it.each(["paused", "disabled"])("goes to an alert destination that is %s (the operator chose it for alarms)", async (state) => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    await adminCall("PATCH", `/destinations/${target.id}`, { state });
    const alertId = await raiseBacklogAlert(target.id);
    const { received } = alertReceiver([204]);
    const info = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
    expect(received).toHaveLength(1);
    expect((await alertRows())[0]!.state).toBe("delivered");
    const line = info.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "alert sent to a destination that is not active");
    expect(line).toMatchObject({ alertId, destinationId: target.id, state });
  });

  it("a failing alert in the same queue batch as an Okta delivery's fan-out leaves the fan-out alone", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL, eventTypes: ["gateway.alert"] });
    const crm = await createDestination({ name: "crm", url: "https://crm.example.com/okta" });
    const alertId = await raiseBacklogAlert(target.id);
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}]);
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    alertReceiver([500]);
    const { result, batch } = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }, { kind: "batch", batchId: await batchOf(uuids[0]!) }]);
    expect(result.explicitAcks).toEqual([batch.messages[1]!.id]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([batch.messages[0]!.id]);
    expect((await firstAttemptDeliveries(crm.id))[0]!.delivered).toHaveLength(2);
    expect((await alertRows())[0]!.state).toBe("failed");
  });

  it("a malformed alert message is dropped; one the platform dead-lettered is acknowledged and stays due in D1", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL });
    const alertId = await raiseBacklogAlert(target.id);
    const { received } = alertReceiver([204]);
    const malformed = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId: "1; DROP TABLE alerts" } as never]);
    expect(malformed.result.explicitAcks).toHaveLength(1);
    const dead = await consume(DEAD_LETTER_QUEUE_NAME, [{ kind: "alert", alertId }]);
    expect(dead.result.explicitAcks).toHaveLength(1);
    expect(received).toEqual([]);
    expect((await alertRows())[0]).toMatchObject({ state: "pending", attempts: 0 });
  });
});
