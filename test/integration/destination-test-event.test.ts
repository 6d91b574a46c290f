/**
 * POST /admin/api/destinations/{id}/test-event through the real Worker: one synthetic `gateway.test` event sent to
 * the destination now, signed as a real delivery (checked with the standardwebhooks package, independently of our
 * signing code), in the destination's format; the answer is the attempt's outcome (status, latency, error, what
 * forwarding would make of it). Nothing is recorded: no event, delivery, attempt or dead letter, the destination's
 * failure count unchanged. Bad input, unknown destinations and missing or wrong tokens are refused before anything
 * is sent.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TEST_EVENT_TYPE } from "../../src/usecases/test-event";
import { adminCall, clearForwarding, createDestination, envWith, hang, stubDestinations } from "../helpers/forwarding";
import { clearEvents } from "../helpers/events";
import { request } from "../helpers/gateway";

type Json = Record<string, any>;

beforeEach(async () => {
  await clearForwarding();
  await clearEvents();
});
afterEach(() => vi.restoreAllMocks());

/** Rows of every table a test event must not write. */
async function footprint() {
  const n = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
  const destinations = await env.DB.prepare("SELECT id, state, consecutive_failures, updated_at FROM destinations ORDER BY id").all();
  return {
    events: await n("events"),
    batches: await n("event_batches"),
    outbox: await n("forward_outbox"),
    deliveries: await n("deliveries"),
    attempts: await n("delivery_attempts"),
    deadLetters: await n("dead_letters"),
    counts: await n("event_counts"),
    destinations: destinations.results,
  };
}

const testEvent = (id: string, body?: unknown, e?: Parameters<typeof adminCall>[3]) => adminCall("POST", `/destinations/${id}/test-event`, body, e);

describe("a test event", () => {
  it("is sent now, signed like a real delivery, clearly marked, and answered with the attempt; nothing is recorded", async () => {
    const d = await createDestination({ name: "CRM", eventTypes: ["user.lifecycle.*"] });
    const before = await footprint();
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));

    const res = await testEvent(d.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const result = (await res.json()) as Json;
    expect(result).toEqual({
      destinationId: d.id,
      eventUuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventType: TEST_EVENT_TYPE,
      webhookId: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
      outcome: "delivered",
      status: 204,
      latencyMs: expect.any(Number),
      error: null,
      attemptedAt: expect.any(String),
    });

    expect(captured).toHaveLength(1);
    const sent = captured[0]!;
    expect(sent.url).toBe("https://receiver.example.com/okta");
    expect(sent.headers.get("webhook-id")).toBe(result.webhookId);
    // Verified as a receiver would, with the secret shown at create.
    const verified = new Webhook(d.secret).verify(sent.body, {
      "webhook-id": sent.headers.get("webhook-id")!,
      "webhook-timestamp": sent.headers.get("webhook-timestamp")!,
      "webhook-signature": sent.headers.get("webhook-signature")!,
    }) as Json;
    expect(verified.type).toBe("gateway.test");
    expect(verified.data).toMatchObject({
      uuid: result.eventUuid,
      eventType: "gateway.test",
      displayMessage: expect.stringContaining("not from Okta"),
      actor: { id: "okta-hooks-edge" },
      target: [{ id: d.id, type: "Destination", displayName: "CRM" }],
    });

    // Sent whatever the destination's event-type filter, and recorded nowhere.
    expect(await footprint()).toEqual(before);
    const search = (await (await adminCall("GET", "/events")).json()) as Json;
    expect(search.events).toEqual([]);
  });

  it("reports a failing receiver as forwarding would judge it, without counting a failure", async () => {
    const d = await createDestination({});
    const before = await footprint();
    stubDestinations(() => new Response("busy", { status: 503 }));
    expect(await (await testEvent(d.id)).json()).toMatchObject({ outcome: "retry", status: 503, error: "HTTP 503" });

    vi.restoreAllMocks();
    stubDestinations(() => new Response(null, { status: 404 }));
    expect(await (await testEvent(d.id)).json()).toMatchObject({ outcome: "dead", status: 404, error: "HTTP 404" });

    vi.restoreAllMocks();
    stubDestinations(() => new Response(null, { status: 302, headers: { location: "https://elsewhere.example.com/" } }));
    expect(await (await testEvent(d.id)).json()).toMatchObject({ outcome: "dead", status: 302, error: expect.stringContaining("redirects are not followed") });

    vi.restoreAllMocks();
    stubDestinations(() => Promise.reject(new TypeError("connection refused")));
    expect(await (await testEvent(d.id)).json()).toMatchObject({ outcome: "retry", status: null, error: expect.stringContaining("network error") });
    expect(await footprint()).toEqual(before);
  });

  it("times out after the destination's timeout", async () => {
    const d = await createDestination({ timeoutMs: 1000 });
    stubDestinations((_, init) => hang(init));
    const result = (await (await testEvent(d.id)).json()) as Json;
    expect(result).toMatchObject({ outcome: "retry", status: null, error: "timeout: no response within 1000 ms" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(900);
  });

  it("goes to a paused or disabled destination too (testing it before resuming is the point); its state stays", async () => {
    const d = await createDestination({ state: "paused" });
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    expect(await (await testEvent(d.id)).json()).toMatchObject({ outcome: "delivered", status: 200 });
    expect(captured).toHaveLength(1);
    await env.DB.prepare("UPDATE destinations SET state = 'disabled', consecutive_failures = 100 WHERE id = ?1").bind(d.id).run();
    expect(await (await testEvent(d.id)).json()).toMatchObject({ outcome: "delivered" });
    expect(await env.DB.prepare("SELECT state, consecutive_failures FROM destinations WHERE id = ?1").bind(d.id).first()).toEqual({
      state: "disabled",
      consecutive_failures: 100,
    });
  });

  it("in Okta's envelope with the receiver's auth header for an okta-format destination", async () => {
    const d = await createDestination({ format: "okta", oktaAuth: { header: "x-receiver-auth", value: "receiver-auth-value" } });
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    const result = (await (await testEvent(d.id)).json()) as Json;
    const sent = captured[0]!;
    expect(sent.headers.get("x-receiver-auth")).toBe("receiver-auth-value");
    const body = JSON.parse(sent.body) as Json;
    expect(body).toMatchObject({ eventType: "com.okta.event_hook", data: { events: [{ uuid: result.eventUuid, eventType: "gateway.test" }] } });
    expect(JSON.stringify(result)).not.toContain("receiver-auth-value");
  });

  it("is refused by the URL guard at send time like any attempt: nothing sent", async () => {
    const d = await createDestination({});
    // A URL that was allowed when written (an insecure-destinations gateway) and is refused now.
    await env.DB.prepare("UPDATE destinations SET url = 'http://127.0.0.1:9/x' WHERE id = ?1").bind(d.id).run();
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    const result = (await (await testEvent(d.id)).json()) as Json;
    expect(result).toMatchObject({ outcome: "dead", status: null, latencyMs: 0, error: expect.stringContaining("destination URL refused") });
    expect(captured).toEqual([]);
  });

  it("is not sent unsigned when the secrets cannot be opened: the answer says why", async () => {
    const d = await createDestination({});
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const result = (await (await testEvent(d.id, undefined, envWith({ SECRETS_ENCRYPTION_KEY: "" }))).json()) as Json;
    expect(result).toMatchObject({ outcome: "retry", status: null, error: "signing secret cannot be decrypted: no_key" });
    expect(captured).toEqual([]);
    expect(JSON.stringify(result)).not.toContain(d.secret);
  });
});

describe("bad input: refused before anything is sent", () => {
  it("an unknown destination is 404, whatever the body", async () => {
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    for (const id of ["dst_00000000000000000000", "nope", "x".repeat(300)]) {
      const res = await testEvent(id, {});
      expect(res.status, id).toBe(404);
      expect(((await res.json()) as Json).error.code).toBe("not_found");
    }
    expect(captured).toEqual([]);
  });

  it("an empty object body is accepted; any field, malformed JSON, the wrong media type or an oversized body is not", async () => {
    const d = await createDestination({});
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    expect((await testEvent(d.id, {})).status).toBe(200);
    expect(captured).toHaveLength(1);

    const unknown = await testEvent(d.id, { eventType: "user.session.start" });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as Json).error).toMatchObject({ code: "invalid_body", message: expect.stringContaining("eventType") });
    const path = `/admin/api/destinations/${d.id}/test-event`;
    expect((await request(path, { as: "admin", body: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await request(path, { as: "admin", body: "[]" })).status).toBe(400);
    expect((await request(path, { as: "admin", body: "x", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await request(path, { as: "admin", body: JSON.stringify({ pad: "x".repeat(70_000) }) })).status).toBe(413);
    expect(captured).toHaveLength(1);
  });

  it("401 without the token or with a wrong one: nothing sent, nothing said of the destination", async () => {
    const d = await createDestination({ name: "Hidden name" });
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "e2e-admin-token" }] as Array<Record<string, string>>) {
      const res = await request(`/admin/api/destinations/${d.id}/test-event`, { method: "POST", headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("Hidden name");
    }
    expect(captured).toEqual([]);
  });

  it("only POST: GET is not a route", async () => {
    const d = await createDestination({});
    expect((await adminCall("GET", `/destinations/${d.id}/test-event`)).status).toBe(404);
  });
});
