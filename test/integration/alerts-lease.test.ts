/**
 * An alert's send never runs past its claim's lease (src/queue/alert-delivery.ts), as a delivery's retry does not
 * (test/integration/fan-out-lease.test.ts): an alert message shares the invocation's six connections with event
 * deliveries, and its turn may come after its lease (its destination's timeout plus 30 s) has ended — when a copy of
 * its message, or the alert cron's resend, claims and sends it too. A claimed alert whose turn comes too late is given
 * back unsent and sent by a new message.
 */
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import { LEASE_SLACK_MS, SEND_LATE_DELAY_SECONDS } from "../../src/queue/forward";
import { alertRows, raiseBacklogAlert, startEachTestClean } from "../helpers/alerts";
import { consume, createDestination, createSlowDestinations, FORWARD_QUEUE_NAME, openDeliveries, storeEvent, stubDestinations, stubHangingDestinations } from "../helpers/forwarding";

const ALERT_URL = "https://alerts.example.com/hook";
const ALERT_TIMEOUT_MS = 10_000;

startEachTestClean();

/** Six destinations that hang until released (taking every connection), an alert destination, an alert raised. */
async function alertBehindSlowDeliveries() {
  const slow = await createSlowDestinations();
  const target = await createDestination({ name: "on-call", url: ALERT_URL, eventTypes: ["gateway.alert"], timeoutMs: ALERT_TIMEOUT_MS });
  const uuid = await storeEvent();
  await openDeliveries(uuid);
  const alertId = await raiseBacklogAlert(target.id);
  const { release, captured } = stubHangingDestinations();
  const deliveries = slow.map((destinationId) => ({ kind: "delivery" as const, uuid, destinationId }));
  return { alertId, release, deliveries, alertsSent: () => captured.filter((r) => r.url.startsWith(ALERT_URL)).length };
}

it("an alert whose turn for a connection comes after its lease is not sent by it, so a copy of its message sends it once", async () => {
  const { alertId, release, deliveries, alertsSent } = await alertBehindSlowDeliveries();
  const running = consume(FORWARD_QUEUE_NAME, [...deliveries, { kind: "alert", alertId }]);
  await vi.waitFor(() => expect(release).toHaveLength(6));

  // The slow destinations hold every connection past the alert's lease: a copy of its message (at-least-once
  // delivery, or the cron's resend of an alert it takes for lost) claims it and sends it in another invocation.
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + ALERT_TIMEOUT_MS + LEASE_SLACK_MS + 1_000);
  const copy = await consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
  expect(copy.result.explicitAcks).toHaveLength(1);
  expect(alertsSent()).toBe(1);

  // Then the connections free up: the first message's alert must not be sent a second time.
  for (const answer of release) answer();
  await running;
  expect(alertsSent()).toBe(1);
  expect((await alertRows())[0]).toMatchObject({ state: "delivered", attempts: 1 });
});

it("an alert whose turn comes too late is given back unsent and sent once by a new message", async () => {
  const { alertId, release, deliveries, alertsSent } = await alertBehindSlowDeliveries();
  const running = consume(FORWARD_QUEUE_NAME, [...deliveries, { kind: "alert", alertId }]);
  await vi.waitFor(() => expect(release).toHaveLength(6));
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + ALERT_TIMEOUT_MS + LEASE_SLACK_MS + 1_000);
  for (const answer of release) answer();
  const { result, batch, forwarded, forwardedDelays } = await running;

  expect(alertsSent()).toBe(0);
  // Every message acked; the alert given back (no lease, no attempt) and a new message for it, a little later.
  expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
  expect(forwarded).toEqual([{ kind: "alert", alertId }]);
  expect(forwardedDelays).toEqual([SEND_LATE_DELAY_SECONDS]);
  const row = await env.DB.prepare("SELECT state, attempts, lease_until FROM alerts WHERE id = ?1").bind(alertId).first();
  expect(row).toEqual({ state: "pending", attempts: 0, lease_until: null });

  await consume(FORWARD_QUEUE_NAME, forwarded);
  expect(alertsSent()).toBe(1);
  expect((await alertRows())[0]).toMatchObject({ state: "delivered", attempts: 1 });
});

it("an alert given back too late leaves alone the lease a copy of its message took meanwhile: it is sent once", async () => {
  const { alertId, release, deliveries } = await alertBehindSlowDeliveries();
  // Every destination hangs until released now, the alert destination too: a copy's send stays in flight.
  const { captured } = stubDestinations(() => new Promise<Response>((resolve) => release.push(() => resolve(new Response(null, { status: 204 })))));
  const sent = () => captured.filter((r) => r.url.startsWith(ALERT_URL)).length;
  const first = consume(FORWARD_QUEUE_NAME, [...deliveries, { kind: "alert", alertId }]);
  await vi.waitFor(() => expect(release).toHaveLength(6));
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + ALERT_TIMEOUT_MS + LEASE_SLACK_MS + 1_000);
  const copy = consume(FORWARD_QUEUE_NAME, [{ kind: "alert", alertId }]);
  await vi.waitFor(() => expect(sent()).toBe(1));
  for (const answer of release.splice(0, 6)) answer();
  const { forwarded } = await first;
  expect(forwarded).toEqual([{ kind: "alert", alertId }]);
  let againDone = false;
  const again = consume(FORWARD_QUEUE_NAME, forwarded).then((r) => ((againDone = true), r));
  await vi.waitFor(() => expect(againDone || sent() > 1).toBe(true));
  expect(sent()).toBe(1);
  for (const answer of release.splice(0)) answer();
  await Promise.all([copy, again]);
  expect(sent()).toBe(1);
  expect((await alertRows())[0]).toMatchObject({ state: "delivered", attempts: 1 });
});
