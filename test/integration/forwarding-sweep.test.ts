/**
 * The outbox sweeper (a failed queue send loses nothing; docs/storage.md): events stored while the queue was down
 * reach their destinations after one scheduled run, through the real local queue and consumer; lost delivery
 * event and delivery messages are re-enqueued; work per run is bounded; a failing sweep is loud.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { OVERDUE_GRACE_MS, SWEEP_BATCH_LIMIT, UNFANNED_GRACE_MS, sweepOutbox } from "../../src/jobs/outbox-sweep";
import type { ForwardMessage } from "../../src/queue/messages";
import { signV1 } from "../../src/forwarding/signing";
import { createDestination, envWith, oktaDelivery, postOktaDelivery, recordingQueue, stubDestinations } from "../helpers/forwarding";

const realEnv = env as unknown as Env;

async function forwardState(uuid: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT forward_state FROM events WHERE uuid = ?1").bind(uuid).first<{ forward_state: string }>();
  return row?.forward_state;
}

/** Store events while the forward queue is down (POST still answers 204: they are safe in D1). */
async function storeWithQueueDown(count: number): Promise<string[]> {
  const { envelope, uuids } = oktaDelivery("user.session.start", Array.from({ length: count }, () => ({})));
  const res = await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue({ fail: true }) }));
  expect(res.status).toBe(204);
  return uuids;
}

beforeEach(async () => {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM events"),
    env.DB.prepare("DELETE FROM deliveries"),
    env.DB.prepare("DELETE FROM delivery_attempts"),
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
    for (const uuid of uuids) expect(await forwardState(uuid)).toBe("pending");
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000, cron: "*/5 * * * *" }), realEnv, ctx);
    await waitOnExecutionContext(ctx);
    for (const uuid of uuids) expect(await forwardState(uuid)).toBe("enqueued");

    // The real local queue delivers to the real consumer (max_batch_timeout 2 s per hop).
    await vi.waitFor(() => expect(captured).toHaveLength(2), { timeout: 20_000, interval: 250 });
    const received = captured.map((c) => JSON.parse(c.body).data.uuid as string).sort();
    expect(received).toEqual([...uuids].sort());
    for (const c of captured) {
      const id = c.headers.get("webhook-id")!;
      const ts = Number(c.headers.get("webhook-timestamp"));
      expect(c.headers.get("webhook-signature")).toBe(await signV1(d.secret, id, ts, c.body));
    }
    await vi.waitFor(
      async () => {
        const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'delivered'").first<{ n: number }>();
        expect(row?.n).toBe(2);
      },
      { timeout: 10_000, interval: 250 },
    );
  });

  it("leaves events younger than a minute to the request that stored them", async () => {
    const [uuid] = await storeWithQueueDown(1);
    const queue = recordingQueue<ForwardMessage>();
    expect(await sweepOutbox(envWith({ FORWARD_QUEUE: queue }), Date.now())).toEqual({ events: 0, deliveries: 0, setAside: 0 });
    expect(queue.sent).toEqual([]);
    expect(await forwardState(uuid!)).toBe("pending");
  });

  it("re-enqueues an event whose queue message was lost after it was marked enqueued, once per grace period", async () => {
    const now = Date.now();
    const insert = (uuid: string, state: string, enqueuedAt: number | null) =>
      env.DB.prepare(
        "INSERT INTO events (uuid, event_type, received_at, forward_state, enqueued_at, payload) VALUES (?1, 'user.session.start', ?2, ?3, ?4, '{}')",
      ).bind(uuid, now - 3_600_000, state, enqueuedAt);
    await env.DB.batch([
      insert("lost", "enqueued", now - UNFANNED_GRACE_MS - 60_000),
      insert("in-backlog", "enqueued", now - UNFANNED_GRACE_MS + 60_000),
      insert("done", "fanned_out", now - UNFANNED_GRACE_MS - 60_000),
      insert("loop-guarded", "skipped", null),
    ]);
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    expect(await sweepOutbox(e, now)).toEqual({ events: 1, deliveries: 0, setAside: 0 });
    expect(queue.sent).toEqual([{ kind: "event", uuid: "lost" }]);
    const row = await env.DB.prepare("SELECT forward_state, enqueued_at FROM events WHERE uuid = 'lost'").first();
    expect(row).toEqual({ forward_state: "enqueued", enqueued_at: now });
    // Its clock restarted: the next run leaves it to the queue.
    expect(await sweepOutbox(e, now + 60_000)).toEqual({ events: 0, deliveries: 0, setAside: 0 });
  });

  it("fan-out takes an event out of the sweeper's view in the same transaction as its deliveries", async () => {
    await createDestination({ eventTypes: ["user.session.start"] });
    const [uuid] = await storeWithQueueDown(1);
    const queue = recordingQueue<ForwardMessage>();
    const { fanOutEvent } = await import("../../src/queue/fan-out");
    await fanOutEvent(envWith({ FORWARD_QUEUE: queue }), uuid!, Date.now());
    expect(await forwardState(uuid!)).toBe("fanned_out");
    expect(queue.sent).toHaveLength(1);
    expect(await sweepOutbox(envWith({ FORWARD_QUEUE: recordingQueue() }), Date.now() + 2 * UNFANNED_GRACE_MS)).toMatchObject({ events: 0 });
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
    expect(await sweepOutbox(e, now)).toEqual({ events: 0, deliveries: 1, setAside: 0 });
    expect(queue.sent).toEqual([{ kind: "delivery", uuid: "e-late", destinationId: "dst_a" }]);
    expect(await sweepOutbox(e, now + 1000)).toEqual({ events: 0, deliveries: 0, setAside: 0 });
  });

  it("works in bounded batches: the next run continues where this one stopped", async () => {
    const old = Date.now() - 10 * 60_000;
    const rows = JSON.stringify(Array.from({ length: SWEEP_BATCH_LIMIT + 1 }, (_, i) => `bulk-${i}`));
    await env.DB.prepare(
      `INSERT INTO events (uuid, event_type, received_at, forward_state, payload)
       SELECT value, 'user.session.start', ?2, 'pending', '{}' FROM json_each(?1)`,
    )
      .bind(rows, old)
      .run();
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    expect(await sweepOutbox(e, Date.now())).toEqual({ events: SWEEP_BATCH_LIMIT, deliveries: 0, setAside: 0 });
    expect(await sweepOutbox(e, Date.now())).toEqual({ events: 1, deliveries: 0, setAside: 0 });
    expect(new Set(queue.sent.map((m) => ("uuid" in m ? m.uuid : null))).size).toBe(SWEEP_BATCH_LIMIT + 1);
  });

  it("rows it cannot progress never starve it: more than a page of poison uuids is set aside, the stuck event behind them is forwarded", async () => {
    // Rows as a gateway without identifier validation stored them: a uuid with a lone surrogate, which D1 does not
    // read back as it was written. Inserted directly, older than the genuinely stuck event.
    const old = Date.now() - 20 * 60_000;
    const poison = Array.from({ length: SWEEP_BATCH_LIMIT + 20 }, (_, i) => `x${i}\ud800`);
    for (let i = 0; i < poison.length; i += 200) {
      await env.DB.prepare(
        `INSERT INTO events (uuid, event_type, received_at, forward_state, payload)
         SELECT value, 'user.session.start', ?2, 'pending', '{}' FROM json_each(?1)`,
      )
        .bind(JSON.stringify(poison.slice(i, i + 200)), old)
        .run();
    }
    // A few more poison rows as lost messages (enqueued long ago, never fanned out).
    await env.DB.prepare(
      `INSERT INTO events (uuid, event_type, received_at, forward_state, enqueued_at, payload)
       SELECT value, 'user.session.start', ?2, 'enqueued', ?2, '{}' FROM json_each(?1)`,
    )
      .bind(JSON.stringify(["y1\udc00", "y2\ud800"]), old - 2 * UNFANNED_GRACE_MS)
      .run();
    const [stuck] = await storeWithQueueDown(1);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue });
    const later = Date.now() + 120_000;

    const first = await sweepOutbox(e, later);
    const second = await sweepOutbox(e, later);
    expect(queue.sent).toEqual([{ kind: "event", uuid: stuck }]);
    expect(first.setAside + second.setAside).toBe(poison.length + 2);
    expect(await forwardState(stuck!)).toBe("enqueued");
    // Reported: an error line with the count (no uuids, no payloads), and one event-level dead letter per row.
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"msg":"outbox sweep: events that cannot be forwarded were set aside as dead letters"'));
    const letters = await env.DB.prepare("SELECT count(*) AS n FROM dead_letters WHERE destination_id = '' AND reason LIKE '%not a valid identifier%'").first<{ n: number }>();
    expect(letters!.n).toBe(poison.length + 2);
    // And they stay out of the way: the next sweep has nothing to do.
    expect(await sweepOutbox(e, later)).toEqual({ events: 0, deliveries: 0, setAside: 0 });
    expect(queue.sent).toHaveLength(1);
  });

  it("a failing sweep logs at error level and rethrows (never silent); the events stay in the outbox", async () => {
    const [uuid] = await storeWithQueueDown(1);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const down = envWith({ FORWARD_QUEUE: recordingQueue({ fail: true }) });
    await expect(sweepOutbox(down, Date.now() + 120_000)).rejects.toThrow(/failed \(simulated\)/);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"msg":"outbox sweep failed"'));
    expect(await forwardState(uuid!)).toBe("pending");
  });
});
