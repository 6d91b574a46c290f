/**
 * Okta event hook deliveries (https://developer.okta.com/docs/concepts/event-hooks/): every data.events[] element
 * stored once in D1, keyed by uuid,
 * with the columns operators filter on; redeliveries and duplicates answer 204 without storing twice; large
 * batches in one round trip; stored events handed to the forward queue.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { getEvent, MAX_BATCH_EVENTS, type StoredEvent } from "../../src/storage/events";
import type { ForwardMessage } from "../../src/queue/messages";
import { fixtureJson, fixtureNames, fixtureText } from "../helpers/fixtures";
import { EVENT_SECRET_OLD, envelope, eventHookPost, logEvent } from "../helpers/okta";
import { callWorker, countRows, recordingQueue } from "../helpers/worker";
import { createDestination } from "../helpers/forwarding";

interface Envelope {
  eventId: string;
  source: string;
  data: { events: Array<Record<string, any>> };
}

async function rowFor(uuid: string): Promise<StoredEvent> {
  const row = await getEvent(env.DB, uuid);
  if (!row) throw new Error(`event ${uuid} not stored`);
  return row;
}

async function outboxCount(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM forward_outbox").first<{ n: number }>())!.n;
}

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM events"), env.DB.prepare("DELETE FROM forward_outbox")]);
  // A paused catch-all destination: every event is wanted (so it is handed to the queue), and its fan-out only
  // parks 'waiting' deliveries, sending nothing anywhere.
  if ((await countRows("destinations")) === 0) await createDestination({ name: "parked", state: "paused" });
});

const deliveryFixtures = fixtureNames(/(^|\/)event-hook\.delivery\.[^/]*(?<!\.headers)\.json$/);

describe("POST /hooks/events — Okta's own delivery examples", () => {
  it("covers every event hook delivery example, captured ones included", () => {
    expect(deliveryFixtures).toEqual([
      "captured/event-hook.delivery.user-account-update-profile.json",
      "captured/event-hook.delivery.user-lifecycle-create.json",
      "captured/event-hook.delivery.user-lifecycle-delete-initiated.json",
      "event-hook.delivery.user-session-start.2019.json",
      "event-hook.delivery.user-session-start.json",
    ]);
  });

  it.each(deliveryFixtures)("stores %s with the right column values and the event JSON as sent", async (name) => {
    const text = fixtureText(name);
    const delivery = JSON.parse(text) as Envelope;
    const res = await callWorker(eventHookPost(text));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await countRows("events")).toBe(delivery.data.events.length);
    for (const event of delivery.data.events) {
      const row = await rowFor(event.uuid);
      expect(row).toMatchObject({
        eventType: event.eventType,
        published: Date.parse(event.published),
        actorId: event.actor.id,
        actorAlternateId: event.actor.alternateId,
        outcomeResult: event.outcome.result,
        severity: event.severity,
        envelopeEventId: delivery.eventId,
        eventHookId: /eventHooks\/([^/]+)$/.exec(delivery.source)![1],
        forward: 1,
      });
      expect(JSON.parse(row.payload)).toEqual(event);
      expect(row.receivedAt).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it("records the Okta org and hook id from source", async () => {
    await callWorker(eventHookPost(fixtureText("captured/event-hook.delivery.user-lifecycle-create.json")));
    const row = await rowFor("9191ef7a-f669-11e9-b9b3-fd3a55cb1b10");
    expect(row.oktaOrg).toBe("cru.oktapreview.com");
    expect(row.eventHookId).toBe("whoo0erni6PIVagJY0h7");
    // Okta's doc sample has a templated host; it is kept (host names are case-insensitive, so lower-cased).
    await callWorker(eventHookPost(fixtureText("event-hook.delivery.user-session-start.json")));
    expect((await rowFor("f1d0b993-cc19-11ed-a688-db22c99ef6c4")).oktaOrg).toBe("{youroktadomain}");
  });

  it("accepts a LogEvent that is not in an envelope only when wrapped in one (Okta's guide sample)", async () => {
    const event = fixtureJson<Record<string, any>>("event-hook.logevent.user-lifecycle-deactivate.json");
    const res = await callWorker(eventHookPost(envelope([event])));
    expect(res.status).toBe(204);
    expect((await rowFor(event.uuid)).eventType).toBe("user.lifecycle.deactivate");
    const bare = await callWorker(eventHookPost(event));
    expect(bare.status).toBe(400);
  });

  it("accepts Content-Type with a charset parameter", async () => {
    const res = await callWorker(
      eventHookPost(envelope([logEvent(1)]), { "content-type": "application/json; charset=UTF-8" }),
    );
    expect(res.status).toBe(204);
  });

  it("is lenient about nulls and fields Okta adds", async () => {
    const event = logEvent(2, {
      actor: null,
      outcome: null,
      severity: null,
      published: null,
      target: null,
      somethingNew: { nested: [1, 2, 3] },
    });
    const res = await callWorker(eventHookPost({ ...envelope([event]), extraTopLevel: true, eventTime: null }));
    expect(res.status).toBe(204);
    const row = await rowFor(event.uuid as string);
    expect(row).toMatchObject({ actorId: null, outcomeResult: null, severity: null, published: null });
    expect(JSON.parse(row.payload).somethingNew).toEqual({ nested: [1, 2, 3] });
  });

  it("accepts an empty events array and stores nothing", async () => {
    const res = await callWorker(eventHookPost(envelope([])));
    expect(res.status).toBe(204);
    expect(await countRows("events")).toBe(0);
  });
});

describe("POST /hooks/events — at-least-once delivery, stored exactly once", () => {
  it("answers 204 to a redelivered envelope and does not store or enqueue it twice", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const text = fixtureText("captured/event-hook.delivery.user-account-update-profile.json");
    expect((await callWorker(eventHookPost(text), { FORWARD_QUEUE: queue })).status).toBe(204);
    expect((await callWorker(eventHookPost(text), { FORWARD_QUEUE: queue })).status).toBe(204);
    expect(await countRows("events")).toBe(1);
    expect(queue.sent).toEqual([{ kind: "batches", batchIds: [(await rowFor("04b1f1d4-4bbf-11ec-82ee-e73dada86765")).batchId] }]);
  });

  it("stores an event that arrives in two different envelopes once, keeping the first envelope id", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const shared = logEvent(10);
    await callWorker(eventHookPost(envelope([shared, logEvent(11)], "envelope-a")), { FORWARD_QUEUE: queue });
    await callWorker(eventHookPost(envelope([logEvent(12), shared], "envelope-b")), { FORWARD_QUEUE: queue });
    expect(await countRows("events")).toBe(3);
    expect((await rowFor(shared.uuid as string)).envelopeEventId).toBe("envelope-a");
    expect((await rowFor(logEvent(12).uuid as string)).envelopeEventId).toBe("envelope-b");
    // One batch per delivery; one after the other (each request's buffer flushed before the next began), one
    // message each.
    const batches = [(await rowFor(shared.uuid as string)).batchId, (await rowFor(logEvent(12).uuid as string)).batchId];
    expect(batches[0]).not.toBe(batches[1]);
    expect(queue.sent).toEqual(batches.map((batchId) => ({ kind: "batches", batchIds: [batchId] })));
  });

  it("stores an event repeated inside one envelope once", async () => {
    const e = logEvent(20);
    const res = await callWorker(eventHookPost(envelope([e, e, logEvent(21)])));
    expect(res.status).toBe(204);
    expect(await countRows("events")).toBe(2);
  });

  it("accepts the previous secret during rotation", async () => {
    const res = await callWorker(eventHookPost(envelope([logEvent(30)]), { authorization: EVENT_SECRET_OLD }));
    expect(res.status).toBe(204);
  });

  it("stores a 500-event delivery in one D1 round trip, as batches of at most 100, and enqueues them as one message", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const events = Array.from({ length: 500 }, (_, i) => logEvent(1000 + i));
    let batches = 0;
    const db = env.DB;
    const countingDb = new Proxy(db, {
      get(target, prop) {
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => {
            batches++;
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const body = JSON.stringify(envelope(events));
    expect(body.length).toBeGreaterThan(300_000);
    // A first delivery loads the isolate's routing copy (one read, after the answer); later ones need none.
    await callWorker(eventHookPost(envelope([logEvent(999)])), { FORWARD_QUEUE: recordingQueue(), DB: countingDb });
    batches = 0;
    const res = await callWorker(eventHookPost(body), { FORWARD_QUEUE: queue, DB: countingDb });
    expect(res.status).toBe(204);
    expect(batches).toBe(1);
    expect(await countRows("events")).toBe(501);
    // One message for the whole delivery, naming its batches (MAX_BATCH_EVENTS each); every event is in one of them.
    expect(queue.sent).toHaveLength(1);
    const batchIds = (queue.sent[0] as { kind: string; batchIds: number[] }).batchIds;
    expect(queue.sent[0]).toMatchObject({ kind: "batches" });
    expect(batchIds).toHaveLength(500 / MAX_BATCH_EVENTS);
    const { results } = await env.DB.prepare("SELECT batch_id, count(*) AS n FROM events WHERE batch_id IN (SELECT value FROM json_each(?1)) GROUP BY batch_id")
      .bind(JSON.stringify(batchIds))
      .all<{ batch_id: number; n: number }>();
    expect(results.map((r) => r.n)).toEqual(batchIds.map(() => MAX_BATCH_EVENTS));
    expect(await outboxCount()).toBe(1 + batchIds.length); // the warm-up's batch and these
  });

  it("stores a delivery whose events exceed one statement's JSON parameter, in one transaction", async () => {
    const big = "x".repeat(100_000);
    const events = Array.from({ length: 8 }, (_, i) => logEvent(2000 + i, { debugContext: { debugData: { big } } }));
    const res = await callWorker(eventHookPost(envelope(events)));
    expect(res.status).toBe(204);
    expect(await countRows("events")).toBe(8);
  });
});

describe("POST /hooks/events — forwarding hand-off", () => {
  it("hands the new events to the real local forward queue as one batch message", async () => {
    const res = await callWorker(eventHookPost(envelope([logEvent(40), logEvent(41)])));
    expect(res.status).toBe(204);
    const a = await rowFor(logEvent(40).uuid as string);
    const b = await rowFor(logEvent(41).uuid as string);
    expect(a.batchId).not.toBeNull();
    expect(b.batchId).toBe(a.batchId);
  });

  it("still answers 204 when the queue is down, leaving the batch in the outbox for the sweeper's next pass", async () => {
    const queue = recordingQueue<ForwardMessage>({ fail: true });
    const logged = [vi.spyOn(console, "log"), vi.spyOn(console, "warn"), vi.spyOn(console, "error")];
    const res = await callWorker(eventHookPost(envelope([logEvent(50), logEvent(51)])), { FORWARD_QUEUE: queue });
    expect(res.status).toBe(204);
    const lines = logged.flatMap((spy) => spy.mock.calls.map(([l]) => JSON.parse(String(l)) as Record<string, unknown>));
    logged.forEach((spy) => spy.mockRestore());
    const batchId = (await rowFor(logEvent(50).uuid as string)).batchId;
    // The request line names the stored batch (to be enqueued); the queue is not in its path, so not in its line.
    const line = lines.find((l) => l.msg === "request");
    expect(line).toMatchObject({ level: "info", status: 204, stored: 2, batchId });
    expect(line?.enqueueError).toBeUndefined();
    // The buffer's flush says it failed, once, with the batch ids.
    const failed = lines.filter((l) => l.msg === "forward batches not enqueued; the outbox sweep sends them");
    expect(failed).toEqual([expect.objectContaining({ level: "error", batches: 1, batchIds: String(batchId), markedNotEnqueued: true })]);
    // Marked "never enqueued", so the next sweep takes it without waiting out the lost-message grace.
    const rows = await env.DB.prepare("SELECT enqueued_at FROM forward_outbox").all<{ enqueued_at: number | null }>();
    expect(rows.results).toEqual([{ enqueued_at: null }]);
  });

  it("stores but never enqueues events whose actor is in IGNORE_ACTOR_IDS (loop guard)", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const ours = logEvent(60, { actor: { id: "00uGatewaySvc", type: "User", alternateId: "svc@example.com" } });
    const theirs = logEvent(61);
    const res = await callWorker(eventHookPost(envelope([ours, theirs])), {
      FORWARD_QUEUE: queue,
      IGNORE_ACTOR_IDS: "00uSomeoneElse, 00uGatewaySvc",
    });
    expect(res.status).toBe(204);
    expect(queue.sent).toEqual([{ kind: "batches", batchIds: [(await rowFor(theirs.uuid as string)).batchId] }]);
    expect((await rowFor(ours.uuid as string)).forward).toBe(0);
    expect((await rowFor(theirs.uuid as string)).forward).toBe(1);
  });

  it("a delivery of loop-guarded events only costs no outbox row and no message", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const ours = logEvent(62, { actor: { id: "00uGatewaySvc", type: "User", alternateId: "svc@example.com" } });
    const res = await callWorker(eventHookPost(envelope([ours])), { FORWARD_QUEUE: queue, IGNORE_ACTOR_IDS: "00uGatewaySvc" });
    expect(res.status).toBe(204);
    expect(queue.sent).toEqual([]);
    expect(await outboxCount()).toBe(0);
    expect((await rowFor(ours.uuid as string)).forward).toBe(0);
  });
});
