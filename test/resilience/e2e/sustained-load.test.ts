/**
 * Sustained concurrent deliveries against the real Worker (`wrangler dev`, local D1 and Queues), with Okta's
 * duplicates: the same envelope re-POSTed, re-POSTed while the first try is still running, and events repeated in
 * new envelopes (./okta-load.ts). For a bounded time and request count. Then: no answer but 204 (no 5xx), every
 * event stored exactly once, nothing half-stored, and every event forwarded to two real receivers on 127.0.0.1 — one
 * steady, one failing each event's first attempt — with valid Standard Webhooks signatures, each accepted once
 * (Okta's duplicates are not forwarded again); the operator's per-event view agrees.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../e2e/gateway.ts";
import { admin, missing, OktaLoad, SigningReceiver, waitUntil } from "./okta-load.ts";

/** Bounded in time and in requests, so CI's 2-core machine drains it in well under two minutes (~1,300 events). */
const LOAD = { clients: 6, durationMs: 15_000, maxRequests: 250, seed: 20261124 };
/** Forwarding drains the queue after the load; bounded. */
const DRAIN_TIMEOUT_MS = 120_000;

describe("sustained concurrent deliveries with Okta's duplicates and retries", () => {
  const receiver = new SigningReceiver((routePath, _uuid, before) => (routePath === "/flaky" && before === 0 ? 503 : 204));
  const ids: Record<string, string> = {};
  let gw: Gateway;
  let load: OktaLoad;
  let drained = false;

  beforeAll(async () => {
    await receiver.start();
    gw = await startGateway({ vars: {
        ALLOW_INSECURE_DESTINATIONS: "true",
        FORWARD_RETRY_BASE_SECONDS: "1",
        // The flaky receiver fails every first attempt and takes every retry. A delivery's retry is a delayed
        // message behind every batch still queued, so on a loaded machine well over a hundred first attempts can
        // fail before the first retry succeeds; with the default auto-disable rule (100 failures over at least 60
        // minutes) such a burst does not disable the destination (test/resilience/workers/destination-outage.test.ts).
      } });
    for (const name of ["steady", "flaky"]) {
      const res = await admin(gw.baseUrl, "POST", "/destinations", { name, url: receiver.url(`/${name}`) });
      expect(res.status).toBe(201);
      const created = (await res.json()) as { id: string; secret: string };
      ids[name] = created.id;
      receiver.trust(`/${name}`, created.secret);
    }
    load = new OktaLoad(() => gw.baseUrl, LOAD);
    await load.run();
    drained = await waitUntil(
      () => missing(load.accepted, receiver.acceptedCounts("/steady")).length === 0 && missing(load.accepted, receiver.acceptedCounts("/flaky")).length === 0,
      DRAIN_TIMEOUT_MS,
    );
  }, 300_000);

  afterAll(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  it("answers every delivery 204: no 5xx, no refusal, no request left unanswered", () => {
    expect(load.requests).toBeGreaterThan(100);
    expect(load.refusals).toEqual([]);
    expect(load.unanswered.length).toBe(0);
    expect([...load.statuses.keys()]).toEqual([204]);
    // No request log line of the Worker says 5xx either.
    expect(gw.output()).not.toMatch(/"msg":"request"[^\n]*"status":5\d\d/);
  });

  it("stores every event exactly once, each in a batch that covers it, and leaves nothing in the outbox", async () => {
    // One wrangler d1 execute: every stored uuid, then the half-stored events and what is left in the outbox.
    const rows = await gw.query<{ kind: string; value: string | number }>(
      `SELECT 'event' AS kind, uuid AS value FROM events
       UNION ALL
       SELECT 'orphans', count(*) FROM events e LEFT JOIN event_batches b ON b.id = e.batch_id
       WHERE b.id IS NULL OR e.id < b.first_event_id OR e.id >= b.first_event_id + b.event_count
       UNION ALL
       SELECT 'outbox', count(*) FROM forward_outbox`,
    );
    const stored = rows.filter((r) => r.kind === "event").map((r) => r.value as string);
    expect(stored.length).toBe(load.sent.size);
    expect(new Set(stored)).toEqual(load.sent);
    expect(rows.find((r) => r.kind === "orphans")?.value).toBe(0);
    expect(rows.find((r) => r.kind === "outbox")?.value).toBe(0);
  });

  it("forwards every event to both receivers, signed, each accepted once, retried under one webhook-id", () => {
    expect(drained, `undelivered: steady ${missing(load.accepted, receiver.acceptedCounts("/steady")).length}, flaky ${missing(load.accepted, receiver.acceptedCounts("/flaky")).length}`).toBe(true);
    for (const routePath of ["/steady", "/flaky"]) {
      const counts = receiver.acceptedCounts(routePath);
      expect(new Set(counts.keys()), routePath).toEqual(load.sent);
      expect([...counts.entries()].filter(([, n]) => n !== 1), `${routePath}: accepted more than once`).toEqual([]);
      expect([...receiver.webhookIds(routePath).values()].every((set) => set.size === 1)).toBe(true);
    }
    expect(receiver.requests.every((r) => r.signatureValid)).toBe(true);
    // The flaky receiver saw a failed first attempt and one retry per event.
    expect(receiver.requests.filter((r) => r.path === "/flaky").length).toBe(2 * load.sent.size);
  });

  it("the operator's view of a sample of events shows both destinations delivered", async () => {
    const sample = [...load.sent].filter((_, i) => i % Math.max(1, Math.floor(load.sent.size / 20)) === 0);
    for (const uuid of sample) {
      const res = await admin(gw.baseUrl, "GET", `/events/${uuid}/deliveries`);
      expect(res.status).toBe(200);
      const view = (await res.json()) as { forwardState: string; deliveries: Array<{ destinationId: string; state: string; attempts: number }> };
      expect(view.forwardState).toBe("fanned_out");
      expect(view.deliveries.find((d) => d.destinationId === ids.steady)).toMatchObject({ state: "delivered", attempts: 1 });
      expect(view.deliveries.find((d) => d.destinationId === ids.flaky)).toMatchObject({ state: "delivered", attempts: 2 });
    }
  });
});
