/**
 * The outbox sweeper (a failed queue send loses nothing; docs/storage.md): batches stored while the queue was down
 * reach their destinations after one scheduled run, through the real local queue and consumer; lost batch and
 * delivery messages are re-enqueued; work per run is bounded; a failing sweep is loud.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { OVERDUE_GRACE_MS, SWEEP_BATCH_LIMIT, SWEEP_MAX_ROUNDS, UNFANNED_GRACE_MS, sweepOutbox } from "../../src/jobs/outbox-sweep";
import type { ForwardMessage } from "../../src/queue/messages";
import { signV1 } from "../../src/forwarding/signing";
import { batchOf, consume, createDestination, envWith, FORWARD_QUEUE_NAME, oktaDelivery, postOktaDelivery, recordingQueue, stubDestinations } from "../helpers/forwarding";

const realEnv = env as unknown as Env;

async function outbox(): Promise<Array<{ batch_id: number; enqueued_at: number | null; lease_until: number | null }>> {
  const { results } = await env.DB.prepare("SELECT batch_id, enqueued_at, lease_until FROM forward_outbox ORDER BY batch_id").all<{
    batch_id: number;
    enqueued_at: number | null;
    lease_until: number | null;
  }>();
  return results;
}

/** Store events while the forward queue is down (POST still answers 204: they are safe in D1, their batch in the outbox). */
async function storeWithQueueDown(count: number): Promise<string[]> {
  const { envelope, uuids } = oktaDelivery("user.session.start", Array.from({ length: count }, () => ({})));
  const res = await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue({ fail: true }) }));
  expect(res.status).toBe(204);
  return uuids;
}

/** Outbox rows as the ingest leaves them, written directly: `count` one-event batches received `ageMs` ago. */
async function seedOutbox(count: number, ageMs: number, enqueuedAgoMs: number | null, uuids?: string[]): Promise<void> {
  const at = Date.now() - ageMs;
  const ids = uuids ?? Array.from({ length: count }, () => crypto.randomUUID());
  for (let i = 0; i < ids.length; i += 200) {
    const next = await env.DB.prepare(
      `SELECT coalesce(max(id), 0) + 1 AS batch,
              coalesce((SELECT first_event_id + event_count FROM event_batches ORDER BY id DESC LIMIT 1), 1) AS event
       FROM event_batches`,
    ).first<{ batch: number; event: number }>();
    // One batch per event: batch next.batch + k holds event next.event + k.
    const slice = JSON.stringify(ids.slice(i, i + 200).map((uuid, k) => ({ u: uuid, b: next!.batch + k, e: next!.event + k })));
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO events (uuid, id, event_type, received_at, forward, payload_offset, payload_bytes, batch_id)
         SELECT value ->> '$.u', value ->> '$.e', 'user.session.start', ?2, 1, 0, 2, value ->> '$.b' FROM json_each(?1)`,
      ).bind(slice, at),
      env.DB.prepare(
        `INSERT INTO event_batches (id, first_event_id, event_count, received_at, uuids)
         SELECT value ->> '$.b', value ->> '$.e', 1, ?2, json_array(value ->> '$.u') FROM json_each(?1)`,
      ).bind(slice, at),
      env.DB.prepare(
        `INSERT INTO batch_types (event_type, batch_id) SELECT 'user.session.start', value ->> '$.b' FROM json_each(?1)`,
      ).bind(slice),
      env.DB.prepare(`INSERT INTO event_payloads (batch_id, data) SELECT value ->> '$.b', CAST('{}' AS BLOB) FROM json_each(?1)`).bind(slice),
      env.DB.prepare(
        `INSERT INTO forward_outbox (batch_id, created_at, enqueued_at) SELECT value ->> '$.b', ?2, ?3 FROM json_each(?1)`,
      ).bind(slice, at, enqueuedAgoMs === null ? null : Date.now() - enqueuedAgoMs),
    ]);
  }
}

beforeEach(async () => {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM events"),
    env.DB.prepare("DELETE FROM event_batches"),
    env.DB.prepare("DELETE FROM batch_types"),
    env.DB.prepare("DELETE FROM batch_failures"),
    env.DB.prepare("DELETE FROM event_payloads"),
    env.DB.prepare("DELETE FROM forward_outbox"),
    env.DB.prepare("DELETE FROM batch_deliveries"),
    env.DB.prepare("DELETE FROM deliveries"),
    env.DB.prepare("DELETE FROM delivery_attempts"),
    env.DB.prepare("DELETE FROM dead_letters"),
    env.DB.prepare("DELETE FROM destinations"),
  ]);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("outbox sweep", () => {
  it("events stored with a failed enqueue reach their destinations after one scheduled run", async () => {
    const d = await createDestination({ eventTypes: ["user.session.start"] });
    const uuids = await storeWithQueueDown(2);
    expect(await outbox()).toEqual([{ batch_id: await batchOf(uuids[0]!), enqueued_at: null, lease_until: null }]);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000, cron: "*/5 * * * *" }), realEnv, ctx);
    await waitOnExecutionContext(ctx);

    // The real local queue delivers to the real consumer (max_batch_timeout 2 s per hop).
    await vi.waitFor(() => expect(captured).toHaveLength(2), { timeout: 20_000, interval: 250 });
    const received = captured.map((c) => JSON.parse(c.body).data.uuid as string).sort();
    expect(received).toEqual([...uuids].sort());
    for (const c of captured) {
      const id = c.headers.get("webhook-id")!;
      const ts = Number(c.headers.get("webhook-timestamp"));
      expect(c.headers.get("webhook-signature")).toBe(await signV1(d.secret, id, ts, c.body));
    }
    await vi.waitFor(async () => expect(await outbox()).toEqual([]), { timeout: 10_000, interval: 250 });
  });

  it("leaves batches younger than a minute to the request that stored them", async () => {
    await createDestination({});
    await storeWithQueueDown(1);
    const queue = recordingQueue<ForwardMessage>();
    expect(await sweepOutbox(envWith({ FORWARD_QUEUE: queue }), Date.now())).toEqual({ batches: 0, deliveries: 0 });
    expect(queue.sent).toEqual([]);
    expect(await outbox()).toHaveLength(1);
  });

  it("re-enqueues a batch whose message was lost, once per grace period; leaves one in a backlog or being fanned out", async () => {
    const now = Date.now();
    await seedOutbox(1, 2 * UNFANNED_GRACE_MS, UNFANNED_GRACE_MS + 60_000, ["lost"]);
    await seedOutbox(1, 2 * UNFANNED_GRACE_MS, UNFANNED_GRACE_MS - 60_000, ["in-backlog"]);
    await seedOutbox(1, 2 * UNFANNED_GRACE_MS, UNFANNED_GRACE_MS + 60_000, ["being-fanned-out"]);
    await env.DB.prepare("UPDATE forward_outbox SET lease_until = ?1 WHERE batch_id = ?2").bind(now + 60_000, await batchOf("being-fanned-out")).run();
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    expect(await sweepOutbox(e, now)).toEqual({ batches: 1, deliveries: 0 });
    expect(queue.sent).toEqual([{ kind: "batches", batchIds: [await batchOf("lost")] }]);
    // Its clock restarted: the next run leaves it to the queue.
    expect(await sweepOutbox(e, now + 30_000)).toEqual({ batches: 0, deliveries: 0 });
  });

  it("a fanned-out batch leaves the outbox in the transaction that records its outcomes", async () => {
    await createDestination({ eventTypes: ["user.session.start"] });
    const [uuid] = await storeWithQueueDown(1);
    stubDestinations(() => new Response(null, { status: 204 }));
    await consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds: [await batchOf(uuid!)] }]);
    expect(await outbox()).toEqual([]);
    expect(await sweepOutbox(envWith({ FORWARD_QUEUE: recordingQueue() }), Date.now() + 2 * UNFANNED_GRACE_MS)).toEqual({ batches: 0, deliveries: 0 });
  });

  it("re-enqueues deliveries overdue past their schedule, once per grace period", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES ('e-late', 'dst_a', 'failed', 2, ?1, ?1, ?1)",
      ).bind(now - OVERDUE_GRACE_MS - 60_000),
      env.DB.prepare(
        "INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES ('e-due-soon', 'dst_a', 'failed', 1, ?1, ?1, ?1)",
      ).bind(now + 60_000),
      env.DB.prepare(
        "INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES ('e-done', 'dst_a', 'delivered', 1, ?1, ?1, ?1)",
      ).bind(now - OVERDUE_GRACE_MS - 60_000),
      env.DB.prepare(
        "INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES ('e-waiting', 'dst_a', 'waiting', 0, ?1, ?1, ?1)",
      ).bind(now - OVERDUE_GRACE_MS - 60_000),
    ]);
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    expect(await sweepOutbox(e, now)).toEqual({ batches: 0, deliveries: 1 });
    expect(queue.sent).toEqual([{ kind: "delivery", uuid: "e-late", destinationId: "dst_a" }]);
    expect(await sweepOutbox(e, now + 1000)).toEqual({ batches: 0, deliveries: 0 });
  });

  it("goes on in rounds while a round comes back full: one run recovers more than one round's worth", async () => {
    await seedOutbox(SWEEP_BATCH_LIMIT + 1, 10 * 60_000, null);
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    const logs = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await sweepOutbox(e, Date.now())).toEqual({ batches: SWEEP_BATCH_LIMIT + 1, deliveries: 0 });
    // "batches" messages of up to 100 ids: five for the first round of 500, one for the second.
    expect(queue.sent.map((m) => (m.kind === "batches" ? m.batchIds.length : 0))).toEqual([100, 100, 100, 100, 100, 1]);
    expect(new Set(queue.sent.flatMap((m) => (m.kind === "batches" ? m.batchIds : []))).size).toBe(SWEEP_BATCH_LIMIT + 1);
    expect(logs).toHaveBeenCalledWith(expect.stringContaining('"more":false'));
    expect(SWEEP_MAX_ROUNDS).toBeGreaterThan(1);
  });

  it("works in bounded rounds: the next run continues where this one stopped", async () => {
    await seedOutbox(11, 10 * 60_000, null);
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at)
       SELECT 'late-' || value, 'dst_a', 'failed', 1, ?1, ?1, ?1 FROM json_each('[1,2,3,4,5,6,7]')`,
    ).bind(now - OVERDUE_GRACE_MS - 60_000).run();
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    const logs = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const limits = { batchLimit: 3, maxRounds: 2 };
    expect(await sweepOutbox(e, now, limits)).toEqual({ batches: 6, deliveries: 6 });
    expect(logs).toHaveBeenLastCalledWith(expect.stringContaining('"more":true'));
    expect(await sweepOutbox(e, now, limits)).toEqual({ batches: 5, deliveries: 1 });
    expect(logs).toHaveBeenLastCalledWith(expect.stringContaining('"more":false'));
    expect(await sweepOutbox(e, now, limits)).toEqual({ batches: 0, deliveries: 0 });
    expect(new Set(queue.sent.flatMap((m): Array<number | string> => (m.kind === "batches" ? m.batchIds : m.kind === "delivery" ? [m.uuid] : []))).size).toBe(11 + 7);
  });

  it("events that can never be forwarded (uuids stored before they were validated) get a dead letter and never hold their batch up", async () => {
    // Rows as a gateway without identifier validation stored them: a uuid with a lone surrogate, which D1 does not
    // read back as it was written.
    await createDestination({});
    await seedOutbox(1, 20 * 60_000, null, ["x1\ud800"]);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const [batch] = await outbox();
    await consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds: [batch!.batch_id] }]);
    expect(captured).toHaveLength(0);
    expect(await outbox()).toEqual([]);
    const letters = await env.DB.prepare("SELECT count(*) AS n FROM dead_letters WHERE destination_id = '' AND reason LIKE '%not a valid identifier%'").first<{ n: number }>();
    expect(letters!.n).toBe(1);
  });

  it("a failing sweep logs at error level and rethrows (never silent); the batches stay in the outbox", async () => {
    await createDestination({});
    await storeWithQueueDown(1);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const down = envWith({ FORWARD_QUEUE: recordingQueue({ fail: true }) });
    await expect(sweepOutbox(down, Date.now() + 120_000)).rejects.toThrow(/failed \(simulated\)/);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"msg":"outbox sweep failed"'));
    expect(await outbox()).toHaveLength(1);
  });

  it("batches a failed sweep could not send are retried by the next run, not after the lost-message grace", async () => {
    await createDestination({});
    const uuids = await storeWithQueueDown(1);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const t0 = Date.now() + 120_000;
    await expect(sweepOutbox(envWith({ FORWARD_QUEUE: recordingQueue({ fail: true }) }), t0)).rejects.toThrow(/failed \(simulated\)/);
    expect(await outbox()).toEqual([{ batch_id: await batchOf(uuids[0]!), enqueued_at: null, lease_until: null }]);
    const queue = recordingQueue<ForwardMessage>();
    expect(await sweepOutbox(envWith({ FORWARD_QUEUE: queue }), t0 + 5 * 60_000)).toEqual({ batches: 1, deliveries: 0 });
    expect(queue.sent).toEqual([{ kind: "batches", batchIds: [await batchOf(uuids[0]!)] }]);
  });
});
