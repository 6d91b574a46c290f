/**
 * Forwarding never strands work: events routed while a destination is disabled or paused wait and are delivered
 * when it is active again; waiting deliveries left behind by a failed or racing resume are resumed by the sweep; a
 * big backlog resumes page by page through the queue; the sweep never steals a live lease; dead letters are
 * written with the dead state and never for a delivery that was delivered; a deleted destination leaves no
 * delivery cycling forever.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OVERDUE_GRACE_MS, sweepOutbox } from "../../src/jobs/outbox-sweep";
import type { ForwardMessage } from "../../src/queue/messages";
import { RESUME_PAGE } from "../../src/queue/resume";
import { LEASE_SLACK_MS } from "../../src/queue/forward";
import {
  DEAD_LETTER_QUEUE_NAME,
  adminCall,
  attempt,
  clearForwarding,
  consume,
  createDestination,
  deliveryRow,
  envWith,
  fanOut,
  openDeliveries,
  recordingQueue,
  storeEvent,
  stubDestinations,
} from "../helpers/forwarding";

beforeEach(async () => {
  await clearForwarding();
  await env.DB.exec("DELETE FROM events");
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function deadLetters(): Promise<unknown[]> {
  return (await env.DB.prepare("SELECT event_uuid, destination_id, reason FROM dead_letters").all()).results;
}

describe("a disabled or paused destination loses nothing", () => {
  it("events stored while it is disabled wait, and are delivered once it is active again", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    expect((await adminCall("PATCH", `/destinations/${d.id}`, { state: "disabled" })).status).toBe(200);
    const uuid = await storeEvent();
    expect(await fanOut(uuid)).toEqual([]);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("waiting");

    const res = await adminCall("PATCH", `/destinations/${d.id}`, { state: "active" });
    expect(res.status).toBe(200);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("pending");
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await attempt(uuid, d.id);
    expect(captured).toHaveLength(1);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("delivered");
  });

  it("the sweep resumes waiting deliveries of a destination that is active, whatever left them waiting", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    // A delivery that went to `waiting` in a race with a resume: the destination is active, the row waits.
    await env.DB.prepare("UPDATE deliveries SET state = 'waiting'").run();
    const queue = recordingQueue<ForwardMessage>();
    const result = await sweepOutbox(envWith({ FORWARD_QUEUE: queue }), Date.now());
    expect(result.deliveries).toBe(1);
    expect(queue.sent).toEqual([{ kind: "delivery", uuid, destinationId: d.id }]);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("pending");
  });

  it("leaves waiting deliveries of paused destinations alone", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"], state: "paused" });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const queue = recordingQueue<ForwardMessage>();
    await sweepOutbox(envWith({ FORWARD_QUEUE: queue }), Date.now());
    expect(queue.sent).toEqual([]);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("waiting");
  });

  it("a backlog larger than a page resumes page by page through the queue", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"], state: "paused" });
    const now = Date.now();
    const total = RESUME_PAGE + 7;
    await env.DB.prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at)
       SELECT 'ev-' || value, ?1, 'waiting', 0, ?2, ?2 + value, ?2 FROM json_each(?3)`,
    )
      .bind(d.id, now, JSON.stringify(Array.from({ length: total }, (_, i) => i)))
      .run();
    await env.DB.prepare("UPDATE destinations SET state = 'active'").run();

    const first = await consume("okta-hooks-edge-forward", [{ kind: "resume", destinationId: d.id }]);
    const deliveries = first.forwarded.filter((m) => m.kind === "delivery");
    expect(deliveries).toHaveLength(RESUME_PAGE);
    expect(first.forwarded.filter((m) => m.kind === "resume")).toEqual([{ kind: "resume", destinationId: d.id }]);
    const second = await consume("okta-hooks-edge-forward", [{ kind: "resume", destinationId: d.id }]);
    expect(second.forwarded).toHaveLength(7);
    expect(second.forwarded.every((m) => m.kind === "delivery")).toBe(true);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM deliveries WHERE state = 'waiting'").first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("leases and dead letters", () => {
  it("the sweep does not re-enqueue an overdue delivery that a consumer is attempting right now", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const now = Date.now();
    // Overdue (its message waited in a long backlog) and leased by a consumer that is sending it now.
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ?1, lease_until = ?2")
      .bind(now - OVERDUE_GRACE_MS - 60_000, now + 10_000 + LEASE_SLACK_MS)
      .run();
    const queue = recordingQueue<ForwardMessage>();
    expect((await sweepOutbox(envWith({ FORWARD_QUEUE: queue }), now)).deliveries).toBe(0);
    expect(queue.sent).toEqual([]);
    const row = await env.DB.prepare("SELECT lease_until FROM deliveries WHERE destination_id = ?1").bind(d.id).first<{ lease_until: number }>();
    expect(row?.lease_until).toBe(now + 10_000 + LEASE_SLACK_MS);
  });

  it("a permanent failure writes the dead letter with the dead state (the dead-letter queue, down here, is not involved)", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => new Response("nope", { status: 400 }));
    const { result } = await attempt(uuid, d.id, { deadLetterQueueFails: true });
    expect(result.explicitAcks).toHaveLength(1);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("dead");
    expect(await deadLetters()).toEqual([{ event_uuid: uuid, destination_id: d.id, reason: expect.stringMatching(/^permanent failure: /) }]);
  });

  it("a platform-dead-lettered duplicate of a delivered delivery writes no dead letter and keeps it delivered", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => new Response(null, { status: 204 }));
    await attempt(uuid, d.id);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("delivered");
    await consume(DEAD_LETTER_QUEUE_NAME, [{ kind: "delivery", uuid, destinationId: d.id }]);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("delivered");
    expect(await deadLetters()).toEqual([]);
  });
});

describe("deleted destinations", () => {
  it("a fan-out racing a delete creates no delivery for the deleted destination", async () => {
    const kept = await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = await storeEvent();
    const { insertOpenDeliveriesStatement } = await import("../../src/storage/deliveries");
    const open = { state: "failed" as const, attempts: 1, nextAttemptAt: Date.now(), lastStatus: 503, lastError: "HTTP 503" };
    await insertOpenDeliveriesStatement(env.DB, [
      { ...open, eventUuid: uuid, destinationId: kept.id },
      { ...open, eventUuid: uuid, destinationId: "dst_00000000000000000000" },
    ], Date.now()).run();
    const rows = await env.DB.prepare("SELECT destination_id FROM deliveries WHERE event_uuid = ?1").bind(uuid).all();
    expect(rows.results).toEqual([{ destination_id: kept.id }]);
  });

  it("a delivery message for a destination deleted meanwhile removes its row instead of cycling", async () => {
    const uuid = await storeEvent();
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?1, 'dst_gone0000000000000000', 'pending', 0, ?2, ?2, ?2)",
    )
      .bind(uuid, now)
      .run();
    const { result } = await attempt(uuid, "dst_gone0000000000000000");
    expect(result.explicitAcks).toHaveLength(1);
    expect(await deliveryRow(uuid, "dst_gone0000000000000000")).toBeNull();
  });
});
