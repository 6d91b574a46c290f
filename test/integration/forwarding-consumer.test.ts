/**
 * The forward queue consumer against real local D1: fan-out, and the fate of each delivery attempt
 * (docs/forwarding.md).
 * Queues are recording fakes here (so no background consumer races the test), except where
 * `exports.default.queue` is used to read the retry delay the handler chose.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_DELIVERY_ATTEMPTS } from "../../src/forwarding/backoff";
import type { ForwardMessage } from "../../src/queue/messages";
import { signV1 } from "../../src/forwarding/signing";
import { countFailureStatement } from "../../src/storage/destinations";
import {
  ADMIN_HEADERS,
  adminCall,
  attempt,
  attemptRows,
  call,
  clearForwarding,
  consume,
  createDestination,
  DEAD_LETTER_QUEUE_NAME,
  deliveryRow,
  envWith,
  fanOut,
  firstAttemptDeliveries,
  openDeliveries,
  batchOf,
  FORWARD_QUEUE_NAME,
  hang,
  message,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  runWorkerQueue,
  storeEvent,
  stubDestinations,
} from "../helpers/forwarding";

beforeEach(clearForwarding);
afterEach(() => {
  // vitest's restoreMocks is off: restore the fetch spy by hand.
  (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.();
});

async function outboxCount(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM forward_outbox").first<{ n: number }>())!.n;
}

describe("fan-out of a stored batch (one Okta delivery)", () => {
  it("attempts every event to every destination it routes to in one message; first-attempt successes are one row per destination", async () => {
    const all = await createDestination({ name: "all" });
    const sessions = await createDestination({ name: "sessions", eventTypes: ["user.session.*"] });
    const lifecycle = await createDestination({ name: "lifecycle", eventTypes: ["user.lifecycle.*"] });
    const failures = await createDestination({ name: "failures only", conditions: { outcomeResults: ["FAILURE"] } });
    const paused = await createDestination({ name: "paused", state: "paused" });
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}]);
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    expect(await batchOf(uuids[0]!)).toBe(await batchOf(uuids[1]!));
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));

    expect(await fanOut(uuids[0]!)).toEqual([]);
    expect(captured).toHaveLength(4);
    const received = captured.map((c) => `${c.url === "https://receiver.example.com/okta" ? "" : c.url}${JSON.parse(c.body).data.uuid}`);
    expect(received.sort()).toEqual([...uuids, ...uuids].sort());
    for (const d of [all, sessions]) {
      const rows = await firstAttemptDeliveries(d.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.delivered).toHaveLength(2);
      expect(rows[0]!.delivered.map(([, status]) => status)).toEqual([204, 204]);
      expect(await deliveryRow(uuids[0]!, d.id)).toBeNull();
    }
    for (const uuid of uuids) expect((await deliveryRow(uuid, paused.id))?.state).toBe("waiting");
    expect(await firstAttemptDeliveries(lifecycle.id)).toEqual([]);
    expect(await firstAttemptDeliveries(failures.id)).toEqual([]);
    expect(await outboxCount()).toBe(0);
    const view = (await (await adminCall("GET", `/events/${uuids[0]}/deliveries`)).json()) as { forwardState: string; deliveries: Array<Record<string, unknown>> };
    expect(view.forwardState).toBe("fanned_out");
    expect(view.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ destinationId: all.id, state: "delivered", attempts: 1, lastStatus: 204 }),
        expect.objectContaining({ destinationId: sessions.id, state: "delivered", attempts: 1, lastStatus: 204 }),
        expect.objectContaining({ destinationId: paused.id, state: "waiting", attempts: 0 }),
      ]),
    );
    expect(view.deliveries).toHaveLength(3);
  });

  it("a failed first attempt gets a deliveries row, its attempt and a retry message delayed until due; a permanent one its dead letter", async () => {
    const flaky = await createDestination({ name: "flaky", url: "https://flaky.example.com/hook" });
    const gone = await createDestination({ name: "gone", url: "https://gone.example.com/hook" });
    const fine = await createDestination({ name: "fine" });
    const uuid = await storeEvent();
    stubDestinations((req) => new Response(null, { status: req.url.includes("flaky") ? 503 : req.url.includes("gone") ? 410 : 200 }));
    const { forwarded, forwardedDelays } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await batchOf(uuid) }]);
    expect(forwarded).toEqual([{ kind: "delivery", uuid, destinationId: flaky.id }]);
    // FORWARD_RETRY_BASE_SECONDS = 5 with ±20 % jitter.
    expect(forwardedDelays[0]).toBeGreaterThanOrEqual(4);
    expect(forwardedDelays[0]).toBeLessThanOrEqual(6);
    expect(await deliveryRow(uuid, flaky.id)).toMatchObject({ state: "failed", attempts: 1, last_status: 503, last_error: "HTTP 503" });
    expect(await attemptRows(uuid, flaky.id)).toEqual([expect.objectContaining({ attempt: 1, status: 503, outcome: "retry" })]);
    expect(await deliveryRow(uuid, gone.id)).toMatchObject({ state: "dead", attempts: 1, last_status: 410 });
    const letters = await env.DB.prepare("SELECT destination_id, attempts FROM dead_letters WHERE event_uuid = ?1").bind(uuid).all();
    expect(letters.results).toEqual([{ destination_id: gone.id, attempts: 1 }]);
    expect((await firstAttemptDeliveries(fine.id))[0]!.delivered).toHaveLength(1);
    const failuresOf = async (id: string) => ((await (await adminCall("GET", `/destinations/${id}`)).json()) as { consecutiveFailures: number }).consecutiveFailures;
    expect(await failuresOf(flaky.id)).toBe(1);
    expect(await failuresOf(gone.id)).toBe(1);
    expect(await failuresOf(fine.id)).toBe(0);

    // The retry, when due, goes through the delivery path and is recorded on the same row.
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ?1 WHERE event_uuid = ?2").bind(Date.now(), uuid).run();
    stubDestinations(() => new Response(null, { status: 200 }));
    await attempt(uuid, flaky.id);
    expect(await deliveryRow(uuid, flaky.id)).toMatchObject({ state: "delivered", attempts: 2, last_status: 200 });
  });

  it("toward auto-disable, a batch's failed first attempts to a destination count as one, and as none if any went through", async () => {
    const down = await createDestination({ url: "https://down.example.com/okta" });
    const picky = await createDestination({ url: "https://picky.example.com/okta" });
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}, {}, {}, {}]);
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    // The picky receiver refuses one of the five (a 400 for that event) and takes the rest.
    stubDestinations((r) => new Response(null, { status: r.url.includes("down.") ? 503 : JSON.parse(r.body).data.uuid === uuids[0] ? 400 : 204 }));
    await fanOut(uuids[0]!);
    const failuresOf = async (id: string) => ((await (await adminCall("GET", `/destinations/${id}`)).json()) as { consecutiveFailures: number }).consecutiveFailures;
    expect(await failuresOf(down.id)).toBe(1);
    expect(await failuresOf(picky.id)).toBe(0);
    expect(await deliveryRow(uuids[0]!, picky.id)).toMatchObject({ state: "dead", last_status: 400 });
  });

  it("is idempotent: a second copy of the batch message sends nothing (the batch left the outbox with its outcomes)", async () => {
    await createDestination({});
    const uuid = await storeEvent();
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuid);
    await fanOut(uuid);
    expect(captured).toHaveLength(1);
  });

  it("leaves a batch another consumer holds alone, and takes it once that lease has run out", async () => {
    await createDestination({});
    const uuid = await storeEvent();
    await env.DB.prepare("UPDATE forward_outbox SET lease_until = ?1").bind(Date.now() + 60_000).run();
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuid);
    expect(captured).toHaveLength(0);
    expect(await outboxCount()).toBe(1);
    await env.DB.prepare("UPDATE forward_outbox SET lease_until = ?1").bind(Date.now() - 1).run();
    await fanOut(uuid);
    expect(captured).toHaveLength(1);
    expect(await outboxCount()).toBe(0);
  });

  it("a D1 failure while recording gives the batch back (lease released) and retries the message", async () => {
    await createDestination({});
    const uuid = await storeEvent();
    stubDestinations(() => new Response(null, { status: 204 }));
    // The first batch (lease and reads) succeeds; the second (recording the outcomes) fails.
    let calls = 0;
    const failing = new Proxy(env.DB, {
      get(target, prop, receiver) {
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => (++calls === 2 ? Promise.reject(new Error("D1 is down")) : target.batch(statements));
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { result } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await batchOf(uuid) }], { env: { DB: failing } });
    expect(result.retryMessages).toHaveLength(1);
    expect(await env.DB.prepare("SELECT lease_until FROM forward_outbox").first()).toEqual({ lease_until: null });
  });

  it("forwards nothing for an event the loop guard skipped (actor in IGNORE_ACTOR_IDS): no outbox row, no message", async () => {
    await createDestination({});
    const { envelope, uuids } = oktaDelivery("user.session.start");
    const queue = recordingQueue();
    const guarded = envWith({ FORWARD_QUEUE: queue, IGNORE_ACTOR_IDS: "00uz9fj5aT69fHVro1d6" });
    expect((await postOktaDelivery(envelope, guarded)).status).toBe(204);
    expect(queue.sent).toEqual([]);
    expect(await outboxCount()).toBe(0);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    expect(await fanOut(uuids[0]!)).toHaveLength(0);
    expect(captured).toHaveLength(0);
  });

  it("acks a message for a batch that is not stored, and a message from before batches", async () => {
    await createDestination({});
    const { result, batch } = await consume(FORWARD_QUEUE_NAME, [
      { kind: "batch", batchId: 987_654_321 },
      { kind: "event", uuid: "from-before-batches" },
    ]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
  });
});

describe("one delivery attempt", () => {
  it("2xx: delivered, signed per Standard Webhooks, attempt recorded, message acked", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response("ok", { status: 200 }));
    const { result, batch } = await attempt(uuid, d.id);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);

    expect(captured).toHaveLength(1);
    const sent = captured[0]!;
    expect(sent.url).toBe("https://receiver.example.com/okta");
    const body = JSON.parse(sent.body);
    expect(body.type).toBe("user.session.start");
    expect(body.timestamp).toBe("2023-03-26T21:05:32.159Z");
    expect(body.data.uuid).toBe(uuid);
    expect(body.data.actor.id).toBe("00uz9fj5aT69fHVro1d6");
    const id = sent.headers.get("webhook-id")!;
    const timestamp = Number(sent.headers.get("webhook-timestamp"));
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect(sent.headers.get("webhook-signature")).toBe(await signV1(d.secret, id, timestamp, sent.body));

    expect(await deliveryRow(uuid, d.id)).toMatchObject({ state: "delivered", attempts: 1, last_status: 200, last_error: null });
    expect(await attemptRows(uuid, d.id)).toEqual([expect.objectContaining({ attempt: 1, status: 200, outcome: "delivered", error: null })]);
  });

  it("5xx: retried with backoff on its own message; webhook-id stays the same on the next attempt", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response("down", { status: 503 }));
    const first = await runWorkerQueue(FORWARD_QUEUE_NAME, [message({ kind: "delivery", uuid, destinationId: d.id })]);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(1);
    // FORWARD_RETRY_BASE_SECONDS = 5 with ±20 % jitter.
    expect(first.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(4);
    expect(first.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(6);
    const row = await deliveryRow(uuid, d.id);
    expect(row).toMatchObject({ state: "failed", attempts: 1, last_status: 503, last_error: "HTTP 503" });
    expect(row!.next_attempt_at! - Date.now()).toBeGreaterThan(2_000);

    // The retry arrives when due (pretend its delay passed).
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ?1 WHERE event_uuid = ?2").bind(Date.now(), uuid).run();
    const second = await runWorkerQueue(FORWARD_QUEUE_NAME, [message({ kind: "delivery", uuid, destinationId: d.id }, 2)]);
    expect(second.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(12);
    expect(second.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(18);
    expect(captured).toHaveLength(2);
    expect(captured[1]!.headers.get("webhook-id")).toBe(captured[0]!.headers.get("webhook-id"));
    expect((await attemptRows(uuid, d.id)).map((a) => a.outcome)).toEqual(["retry", "retry"]);
  });

  it("429 with Retry-After: waits at least as long as asked", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => new Response(null, { status: 429, headers: { "retry-after": "120" } }));
    const result = await runWorkerQueue(FORWARD_QUEUE_NAME, [message({ kind: "delivery", uuid, destinationId: d.id })]);
    expect(result.retryMessages[0]!.delaySeconds).toBe(120);
  });

  it("timeout: transient, retried, recorded as a timeout", async () => {
    const d = await createDestination({ timeoutMs: 1000 });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations((_, init) => hang(init));
    const { result } = await attempt(uuid, d.id);
    expect(result.retryMessages).toHaveLength(1);
    expect(await attemptRows(uuid, d.id)).toEqual([
      expect.objectContaining({ status: null, outcome: "retry", error: "timeout: no response within 1000 ms" }),
    ]);
  });

  it("network error: transient; the recorded error names no URL path (it may hold a token)", async () => {
    const d = await createDestination({ url: "https://receiver.example.com/hooks/T0001/B0002/secret-token-in-path" });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => {
      throw new TypeError("connect failed to https://receiver.example.com/hooks/T0001/B0002/secret-token-in-path");
    });
    const { result } = await attempt(uuid, d.id);
    expect(result.retryMessages).toHaveLength(1);
    const [row] = await attemptRows(uuid, d.id);
    expect(row!.error).toContain("network error");
    expect(row!.error).not.toContain("secret-token-in-path");
  });

  it.each([400, 401, 404, 410, 301])("%s: permanent, no retry, dead-lettered", async (status) => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => new Response(null, { status, headers: status === 301 ? { location: "https://elsewhere.example.com/" } : {} }));
    const { result, batch, deadLettered } = await attempt(uuid, d.id);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    // One writer: the dead letter is written with the dead state, and nothing goes to the dead-letter queue.
    expect(deadLettered).toEqual([]);
    expect(await deadLetterRows(uuid)).toEqual([{ destination_id: d.id, attempts: 1, reason: expect.stringMatching(/^permanent failure: /) }]);
    expect(await deliveryRow(uuid, d.id)).toMatchObject({ state: "dead", attempts: 1, last_status: status });
  });

  it("retries exhausted: the last transient failure is dead, not retried", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    await env.DB.prepare("UPDATE deliveries SET attempts = ?1 WHERE event_uuid = ?2").bind(MAX_DELIVERY_ATTEMPTS - 1, uuid).run();
    stubDestinations(() => new Response(null, { status: 500 }));
    const { result, deadLettered } = await attempt(uuid, d.id);
    expect(result.retryMessages).toEqual([]);
    expect(deadLettered).toEqual([]);
    const rows = await deadLetterRows(uuid);
    expect(rows).toEqual([{ destination_id: d.id, attempts: MAX_DELIVERY_ATTEMPTS, reason: expect.stringMatching(/retries exhausted after 13 attempts/) }]);
  });

  it("one failing destination never holds back or re-sends another in the same batch", async () => {
    const good = await createDestination({ name: "good", url: "https://good.example.com/hook" });
    const bad = await createDestination({ name: "bad", url: "https://bad.example.com/hook" });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations((req) => new Response(null, { status: req.url.startsWith("https://bad.") ? 500 : 200 }));
    const { result, batch } = await consume(FORWARD_QUEUE_NAME, [
      { kind: "delivery", uuid, destinationId: good.id },
      { kind: "delivery", uuid, destinationId: bad.id },
    ]);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([batch.messages[1]!.id]);
    expect(captured).toHaveLength(2);
    expect((await deliveryRow(uuid, good.id))?.state).toBe("delivered");
    expect((await deliveryRow(uuid, bad.id))?.state).toBe("failed");
  });

  it("attempts at most 6 deliveries at once (Workers' outbound connection limit), and all of them", async () => {
    const d = await createDestination({});
    const uuids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const uuid = await storeEvent();
      await openDeliveries(uuid);
      uuids.push(uuid);
    }
    let inFlight = 0;
    let most = 0;
    stubDestinations(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return new Response(null, { status: 204 });
    });
    const { result } = await consume(FORWARD_QUEUE_NAME, uuids.map((uuid) => ({ kind: "delivery" as const, uuid, destinationId: d.id })));
    expect(result.explicitAcks).toHaveLength(10);
    expect(most).toBe(6);
  });

  it("a duplicate message for a delivered delivery sends nothing", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    await attempt(uuid, d.id);
    const { result, batch } = await attempt(uuid, d.id);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(captured).toHaveLength(1);
  });

  it("a stale duplicate arriving long before the scheduled retry is dropped without sending", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    await env.DB.prepare("UPDATE deliveries SET state = 'failed', attempts = 1, next_attempt_at = ?1 WHERE event_uuid = ?2")
      .bind(Date.now() + 3_600_000, uuid)
      .run();
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    const { result, batch } = await attempt(uuid, d.id);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(captured).toHaveLength(0);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("failed");
  });

  it("re-checks the URL guard at send time: a private URL written behind the API's back is never fetched", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    await env.DB.prepare("UPDATE destinations SET url = 'https://169.254.169.254/latest/meta-data/' WHERE id = ?1").bind(d.id).run();
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    const { deadLettered } = await attempt(uuid, d.id);
    expect(captured).toHaveLength(0);
    expect(await deliveryRow(uuid, d.id)).toMatchObject({ state: "dead" });
    expect(deadLettered).toEqual([]);
    expect((await deadLetterRows(uuid))[0]?.reason).toMatch(/destination URL refused/);
  });

  it("a deleted destination's message is acked without sending", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    expect((await adminCall("DELETE", `/destinations/${d.id}`)).status).toBe(204);
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    const { result, batch } = await attempt(uuid, d.id);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(captured).toHaveLength(0);
  });

  it("a malformed message is acked (it can never succeed) instead of failing the batch", async () => {
    const { result, batch } = await consume(FORWARD_QUEUE_NAME, [{ kind: "nonsense" } as unknown as ForwardMessage]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
  });
});

describe("okta format", () => {
  it("re-wraps the event in Okta's event hook envelope with the configured auth header and a stable idempotency key", async () => {
    const d = await createDestination({ format: "okta", oktaAuth: { header: "X-Receiver-Auth", value: "receiver-shared-secret" } });
    const { envelope, uuids } = oktaDelivery("user.lifecycle.create");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    const uuid = uuids[0]!;
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 500 }));
    await attempt(uuid, d.id);
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ?1 WHERE event_uuid = ?2").bind(Date.now(), uuid).run();
    await attempt(uuid, d.id);
    expect(captured).toHaveLength(2);
    const [first, second] = captured as [typeof captured[0], typeof captured[0]];
    expect(first.headers.get("x-receiver-auth")).toBe("receiver-shared-secret");
    const body = JSON.parse(first.body);
    expect(body).toMatchObject({
      eventType: "com.okta.event_hook",
      eventTypeVersion: "1.0",
      cloudEventsVersion: "0.1",
      source: "https://cru.oktapreview.com/api/v1/eventHooks/whoo0erni6PIVagJY0h7",
      contentType: "application/json",
    });
    expect(body.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Date.parse(body.eventTime)).not.toBeNaN();
    expect(body.data.events).toHaveLength(1);
    expect(body.data.events[0].uuid).toBe(uuid);
    expect(body.data.events[0].eventType).toBe("user.lifecycle.create");
    expect(first.headers.get("idempotency-key")).toBe(body.eventId);
    expect(second.headers.get("idempotency-key")).toBe(body.eventId);
    expect(JSON.parse(second.body).eventId).toBe(body.eventId);
  });
});

describe("paused and disabled destinations", () => {
  it("a paused destination's deliveries wait unattempted and uncounted, and are sent on resume", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    expect((await adminCall("PATCH", `/destinations/${d.id}`, { state: "paused" })).status).toBe(200);
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    await attempt(uuid, d.id);
    expect(captured).toHaveLength(0);
    expect(await deliveryRow(uuid, d.id)).toMatchObject({ state: "waiting", attempts: 0 });
    const uuid2 = await storeEvent();
    expect(await fanOut(uuid2)).toHaveLength(0);
    expect((await deliveryRow(uuid2, d.id))?.state).toBe("waiting");

    const resumeQueue = recordingQueue<ForwardMessage>();
    const res = await adminCall("PATCH", `/destinations/${d.id}`, { state: "active" }, envWith({ FORWARD_QUEUE: resumeQueue }));
    expect(res.status).toBe(200);
    expect(resumeQueue.sent).toEqual(
      expect.arrayContaining([
        { kind: "delivery", uuid, destinationId: d.id },
        { kind: "delivery", uuid: uuid2, destinationId: d.id },
      ]),
    );
    await attempt(uuid, d.id);
    await attempt(uuid2, d.id);
    expect(captured).toHaveLength(2);
    expect((await deliveryRow(uuid2, d.id))?.state).toBe("delivered");
  });

  it("a destination is disabled after DESTINATION_DISABLE_AFTER_FAILURES consecutive failures lasting DESTINATION_DISABLE_AFTER_MINUTES, shown by /healthz", async () => {
    const d = await createDestination({ name: "flaky" });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    // Defaults: 100 failures over at least 60 minutes. One failure short of the count, the run begun 61 minutes ago.
    await env.DB.prepare("UPDATE destinations SET consecutive_failures = 99, failing_since = ?2 WHERE id = ?1").bind(d.id, Date.now() - 61 * 60_000).run();
    stubDestinations(() => new Response(null, { status: 502 }));
    await attempt(uuid, d.id);
    const view = (await (await adminCall("GET", `/destinations/${d.id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ state: "disabled", consecutiveFailures: 100 });
    expect(view.disabledReason).toBe("disabled automatically after 100 consecutive failed attempts over 61 minutes");
    const health = (await (await call("/healthz", { headers: ADMIN_HEADERS })).json()) as { status: string; disabledDestinations: unknown[] };
    expect(health.status).toBe("degraded");
    expect(health.disabledDestinations).toEqual([expect.objectContaining({ id: d.id, name: "flaky" })]);
  });

  it("a hundred failures in a few minutes do not disable a destination: the run must last DESTINATION_DISABLE_AFTER_MINUTES", async () => {
    const d = await createDestination({ name: "blip" });
    const uuids = [await storeEvent(), await storeEvent()];
    for (const uuid of uuids) await openDeliveries(uuid);
    await env.DB.prepare("UPDATE destinations SET consecutive_failures = 150, failing_since = ?2 WHERE id = ?1").bind(d.id, Date.now() - 5 * 60_000).run();
    stubDestinations(() => new Response(null, { status: 503 }));
    await attempt(uuids[0]!, d.id);
    let view = (await (await adminCall("GET", `/destinations/${d.id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ state: "active", consecutiveFailures: 151, disabledReason: null });
    // The same run, an hour old now: the next failure disables it, and the reason says how long it lasted.
    await env.DB.prepare("UPDATE destinations SET failing_since = failing_since - 3_600_000 WHERE id = ?1").bind(d.id).run();
    await attempt(uuids[1]!, d.id);
    view = (await (await adminCall("GET", `/destinations/${d.id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ state: "disabled", consecutiveFailures: 152, disabledReason: "disabled automatically after 152 consecutive failed attempts over 65 minutes" });
  });

  it("a run of failures starts at its first failure and ends with a success, which also clears when it began", async () => {
    const d = await createDestination({});
    const uuids = [await storeEvent(), await storeEvent()];
    for (const uuid of uuids) await openDeliveries(uuid);
    const since = () => env.DB.prepare("SELECT consecutive_failures AS n, failing_since AS at FROM destinations WHERE id = ?1").bind(d.id).first<{ n: number; at: number | null }>();
    expect(await since()).toEqual({ n: 0, at: null });
    const before = Date.now();
    stubDestinations(() => new Response(null, { status: 503 }));
    await attempt(uuids[0]!, d.id);
    const failing = await since();
    expect(failing?.n).toBe(1);
    expect(failing?.at).toBeGreaterThanOrEqual(before);
    stubDestinations(() => new Response(null, { status: 204 }));
    await attempt(uuids[1]!, d.id);
    expect(await since()).toEqual({ n: 0, at: null });
  });

  it("the count alone (DESTINATION_DISABLE_AFTER_MINUTES=0) disables even when the failure settling last began before the run's first", async () => {
    const d = await createDestination({});
    const now = Date.now();
    // Two attempts in flight at once: the later-started one settles first and begins the run.
    await env.DB.prepare("UPDATE destinations SET consecutive_failures = 2, failing_since = ?2 WHERE id = ?1").bind(d.id, now).run();
    const after = await countFailureStatement(env.DB, d.id, { afterFailures: 3, afterMs: 0 }, now - 5).first<{ state: string; consecutive_failures: number }>();
    expect(after).toMatchObject({ state: "disabled", consecutive_failures: 3 });
  });

  it("a success resets the run of failures", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    await env.DB.prepare("UPDATE destinations SET consecutive_failures = 42 WHERE id = ?1").bind(d.id).run();
    stubDestinations(() => new Response(null, { status: 200 }));
    await attempt(uuid, d.id);
    const view = (await (await adminCall("GET", `/destinations/${d.id}`)).json()) as Record<string, unknown>;
    expect(view.consecutiveFailures).toBe(0);
  });
});

async function deadLetterRows(uuid: string) {
  const { results } = await env.DB.prepare("SELECT destination_id, attempts, reason FROM dead_letters WHERE event_uuid = ?1").bind(uuid).all();
  return results;
}

describe("dead-letter queue consumer", () => {
  it("refuses (acks and logs) a message that is not a forward message, writing nothing", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM dead_letters").first<{ n: number }>();
    const { result, batch } = await consume(DEAD_LETTER_QUEUE_NAME, [
      { kind: "dead", uuid: "evt-1", destinationId: "dst_00000000000000000000", reason: "x", attempts: 1 } as unknown as ForwardMessage,
    ]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM dead_letters").first<{ n: number }>()).toEqual(before);
  });

  it("records forward messages the platform moved there after Queues' own retries ran out", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    await consume(DEAD_LETTER_QUEUE_NAME, [{ kind: "delivery", uuid, destinationId: d.id }, { kind: "event", uuid: "evt-2" }]);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("dead");
    const { results } = await env.DB.prepare("SELECT event_uuid, destination_id FROM dead_letters ORDER BY event_uuid").all();
    expect(results).toEqual(
      expect.arrayContaining([
        { event_uuid: uuid, destination_id: d.id },
        { event_uuid: "evt-2", destination_id: "" },
      ]),
    );
  });
});
