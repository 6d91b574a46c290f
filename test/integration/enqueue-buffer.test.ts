/**
 * The forward queue's producer is coalesced in the isolate (src/queue/enqueue-buffer.ts): POST /hooks/events
 * answers once D1 has stored the delivery, and the outbox batches of the requests an isolate serves go out as ONE
 * {kind:"batches"} message FORWARD_ENQUEUE_WINDOW_MS after the first, or at once at 100. Every request's waitUntil
 * holds the send that carries its batch (runFetch waits for it, so no polling is needed). A send that fails twice
 * marks the batches "not enqueued" for the sweeper and logs one line; nothing is lost.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { OUTBOX_MIN_AGE_MS, sweepOutbox } from "../../src/jobs/outbox-sweep";
import { MAX_BATCHES_PER_MESSAGE, type ForwardMessage } from "../../src/queue/messages";
import {
  batchOf,
  clearForwarding,
  consume,
  createDestination,
  envWith,
  EVENT_HOOK_HEADERS,
  FORWARD_QUEUE_NAME,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  stubDestinations,
} from "../helpers/forwarding";
import { logLines } from "../helpers/events";

/** A forward queue whose first `failures` sends fail (Infinity: all), counting every send. */
function flakyQueue(failures: number) {
  const queue = recordingQueue<ForwardMessage>();
  let calls = 0;
  const sendBatch = queue.sendBatch.bind(queue);
  queue.sendBatch = async (messages) => {
    calls++;
    if (calls <= failures) throw new Error("Queue sendBatch failed (simulated)");
    return sendBatch(messages);
  };
  return { queue, calls: () => calls };
}

/** `count` one-event deliveries posted at once through `e`; answers their uuids (all answered 204). */
async function postTogether(count: number, e: Env): Promise<string[]> {
  const made = Array.from({ length: count }, () => oktaDelivery("user.session.start"));
  const statuses = await Promise.all(made.map(async ({ envelope }) => (await postOktaDelivery(envelope, e)).status));
  expect(statuses.every((s) => s === 204)).toBe(true);
  return made.map((m) => m.uuids[0]!);
}

async function outbox(): Promise<Array<{ batch_id: number; enqueued_at: number | null }>> {
  const { results } = await env.DB.prepare("SELECT batch_id, enqueued_at FROM forward_outbox ORDER BY batch_id").all<{ batch_id: number; enqueued_at: number | null }>();
  return results;
}

const idsOf = (sent: ForwardMessage[]) => sent.flatMap((m) => (m.kind === "batches" ? m.batchIds : []));

beforeEach(async () => {
  await clearForwarding();
  // A paused catch-all destination: every event is wanted, so every delivery gets an outbox batch.
  await createDestination({ name: "parked", state: "paused" });
});
afterEach(() => vi.restoreAllMocks());

describe("POST /hooks/events hands its batch to the isolate's buffer", () => {
  it("concurrent deliveries within the window are ONE batches message; redeliveries (nothing stored) add no id", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue, FORWARD_ENQUEUE_WINDOW_MS: "1000" });
    const made = Array.from({ length: 12 }, () => oktaDelivery("user.session.start"));
    // Each delivery, and Okta's redelivery of it, at the same moment: one of the two stores it, the other is a duplicate.
    const { result: statuses, lines } = await logLines(() =>
      Promise.all(made.flatMap(({ envelope }) => [postOktaDelivery(envelope, e), postOktaDelivery(envelope, e)]).map(async (r) => (await r).status)),
    );
    expect(statuses.every((s) => s === 204)).toBe(true);
    const batchIds = await Promise.all(made.map(({ uuids }) => batchOf(uuids[0]!)));
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]!.kind).toBe("batches");
    expect([...idsOf(queue.sent)].sort((a, b) => a - b)).toEqual([...batchIds].sort((a, b) => a - b));
    // Each storing request's line names its batch (to be enqueued); the duplicates' lines name none.
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests).toHaveLength(24);
    expect(requests.filter((l) => l.stored === 1).map((l) => l.batchId).sort()).toEqual([...batchIds].sort());
    expect(requests.filter((l) => l.stored === 0).every((l) => l.batchId === undefined && l.duplicates === 1)).toBe(true);
    expect(requests.every((l) => l.enqueueError === undefined)).toBe(true);
    // Handed to the queue: the outbox rows keep their enqueued time (the sweeper waits out the lost-message grace).
    expect((await outbox()).every((r) => r.enqueued_at !== null)).toBe(true);
  });

  it(`a buffer of ${MAX_BATCHES_PER_MESSAGE} ids is sent at once; the next id starts a new message`, { timeout: 30_000 }, async () => {
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue, FORWARD_ENQUEUE_WINDOW_MS: "5000" });
    const uuids = await postTogether(MAX_BATCHES_PER_MESSAGE + 1, e);
    const batchIds = await Promise.all(uuids.map(batchOf));
    expect(queue.sent.map((m) => (m.kind === "batches" ? m.batchIds.length : 0))).toEqual([MAX_BATCHES_PER_MESSAGE, 1]);
    expect(new Set(idsOf(queue.sent))).toEqual(new Set(batchIds));
  });

  it("a window of 0 still joins the requests in flight; one after the other, each is its own message", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const e = envWith({ FORWARD_QUEUE: queue, FORWARD_ENQUEUE_WINDOW_MS: "0" });
    const first = await postTogether(1, e);
    const second = await postTogether(1, e);
    expect(queue.sent).toEqual([
      { kind: "batches", batchIds: [await batchOf(first[0]!)] },
      { kind: "batches", batchIds: [await batchOf(second[0]!)] },
    ]);
  });

  it("answers 204 before the batch is on the queue: the send happens in the request's waitUntil", async () => {
    const queue = recordingQueue<ForwardMessage>();
    let releaseSend!: () => void;
    const held = new Promise<void>((r) => (releaseSend = r));
    const sendBatch = queue.sendBatch.bind(queue);
    queue.sendBatch = async (messages) => {
      await held;
      return sendBatch(messages);
    };
    const { envelope, uuids } = oktaDelivery("user.session.start");
    const ctx = createExecutionContext();
    const request = new Request("https://gateway.test/hooks/events", { method: "POST", headers: EVENT_HOOK_HEADERS, body: JSON.stringify(envelope) });
    const res = await worker.fetch(request, envWith({ FORWARD_QUEUE: queue, FORWARD_ENQUEUE_WINDOW_MS: "0" }), ctx);
    expect(res.status).toBe(204);
    expect(queue.sent).toEqual([]);
    releaseSend();
    await waitOnExecutionContext(ctx);
    expect(queue.sent).toEqual([{ kind: "batches", batchIds: [await batchOf(uuids[0]!)] }]);
  });

  it("a send that fails once is retried: one message, nothing logged as lost", async () => {
    const { queue, calls } = flakyQueue(1);
    const e = envWith({ FORWARD_QUEUE: queue, FORWARD_ENQUEUE_WINDOW_MS: "200" });
    const { result: uuids, lines } = await logLines(() => postTogether(3, e));
    expect(calls()).toBe(2);
    expect(new Set(idsOf(queue.sent))).toEqual(new Set(await Promise.all(uuids.map(batchOf))));
    expect(queue.sent).toHaveLength(1);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect((await outbox()).every((r) => r.enqueued_at !== null)).toBe(true);
  });

  it("the queue down: 204, events stored, batches marked not enqueued, one error line; the sweeper sends them as one message", async () => {
    const { queue, calls } = flakyQueue(Infinity);
    const e = envWith({ FORWARD_QUEUE: queue, FORWARD_ENQUEUE_WINDOW_MS: "200" });
    const { result: uuids, lines } = await logLines(() => postTogether(4, e));
    const batchIds = (await Promise.all(uuids.map(batchOf))).sort((a, b) => a - b);
    expect(calls()).toBe(2); // one send and its retry, for the four requests
    expect(queue.sent).toEqual([]);
    expect(await outbox()).toEqual(batchIds.map((batch_id) => ({ batch_id, enqueued_at: null })));
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: "forward batches not enqueued; the outbox sweep sends them",
      batches: 4,
      markedNotEnqueued: true,
      error: expect.stringContaining("simulated"),
    });
    expect(String(errors[0]!.batchIds).split(",").map(Number).sort((a, b) => a - b)).toEqual(batchIds);
    // Ids and counts only: no event content.
    const text = JSON.stringify(errors[0]);
    for (const uuid of uuids) expect(text).not.toContain(uuid);
    expect(text).not.toContain("user.session.start");
    // The request lines are plain 204s naming their batch.
    expect(lines.filter((l) => l.msg === "request").every((l) => l.level === "info" && l.status === 204 && typeof l.batchId === "number")).toBe(true);

    // The sweeper's next run takes them (not after the lost-message grace): one "batches" message holding all four.
    const healthy = recordingQueue<ForwardMessage>();
    expect(await sweepOutbox(envWith({ FORWARD_QUEUE: healthy }), Date.now() + OUTBOX_MIN_AGE_MS + 1_000)).toEqual({ batches: 4, deliveries: 0 });
    expect(healthy.sent).toEqual([{ kind: "batches", batchIds }]);

    // …and its consumer forwards each event once.
    await env.DB.prepare("UPDATE destinations SET state = 'active'").run();
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result, batch } = await consume(FORWARD_QUEUE_NAME, healthy.sent);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(captured.map((c) => JSON.parse(c.body).data.uuid as string).sort()).toEqual([...uuids].sort());
    expect(await outbox()).toEqual([]);
  });

  it("when marking the batches fails too, the line says so and they wait for the lost-message grace", async () => {
    const { queue } = flakyQueue(Infinity);
    // D1 refuses the marking UPDATE only (the ingest's own writes go through).
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => (sql.startsWith("UPDATE forward_outbox SET enqueued_at = NULL") ? target.prepare("SELECT no_such_column FROM forward_outbox") : target.prepare(sql));
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const e = envWith({ FORWARD_QUEUE: queue, DB: db, FORWARD_ENQUEUE_WINDOW_MS: "0" });
    const { result: uuids, lines } = await logLines(() => postTogether(1, e));
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toEqual([expect.objectContaining({ batches: 1, batchIds: String(await batchOf(uuids[0]!)), markedNotEnqueued: false, markError: expect.any(String) })]);
    expect((await outbox())[0]!.enqueued_at).not.toBeNull();
  });
});
