/**
 * Okta event hook deliveries (https://developer.okta.com/docs/concepts/event-hooks/): every data.events[] element
 * stored once in D1, keyed by uuid,
 * with the columns operators filter on; redeliveries and duplicates answer 204 without storing twice; large
 * batches in one round trip; stored events handed to the forward queue.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { EventRow } from "../../src/storage/events";
import type { ForwardMessage } from "../../src/queue/messages";
import { fixtureJson, fixtureNames, fixtureText } from "../helpers/fixtures";
import { EVENT_SECRET_OLD, envelope, eventHookPost, logEvent } from "../helpers/okta";
import { callWorker, countRows, recordingQueue } from "../helpers/worker";

interface Envelope {
  eventId: string;
  source: string;
  data: { events: Array<Record<string, any>> };
}

async function rowFor(uuid: string): Promise<EventRow> {
  const row = await env.DB.prepare("SELECT * FROM events WHERE uuid = ?1").bind(uuid).first<EventRow>();
  if (!row) throw new Error(`event ${uuid} not stored`);
  return row;
}

beforeEach(async () => {
  await env.DB.exec("DELETE FROM events");
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
        event_type: event.eventType,
        published: new Date(event.published).toISOString(),
        actor_id: event.actor.id,
        actor_alternate_id: event.actor.alternateId,
        outcome_result: event.outcome.result,
        severity: event.severity,
        envelope_event_id: delivery.eventId,
        event_hook_id: /eventHooks\/([^/]+)$/.exec(delivery.source)![1],
        // Handed to the queue; the real local consumer may already have fanned it out.
        forward_state: expect.stringMatching(/^(enqueued|fanned_out)$/),
      });
      expect(JSON.parse(row.payload)).toEqual(event);
      expect(row.received_at).toBeGreaterThan(Date.now() - 60_000);
      expect(row.enqueued_at).toBeGreaterThanOrEqual(row.received_at);
    }
  });

  it("records the Okta org and hook id from source", async () => {
    await callWorker(eventHookPost(fixtureText("captured/event-hook.delivery.user-lifecycle-create.json")));
    const row = await rowFor("9191ef7a-f669-11e9-b9b3-fd3a55cb1b10");
    expect(row.okta_org).toBe("cru.oktapreview.com");
    expect(row.event_hook_id).toBe("whoo0erni6PIVagJY0h7");
    // Okta's doc sample has a templated host; it is kept (host names are case-insensitive, so lower-cased).
    await callWorker(eventHookPost(fixtureText("event-hook.delivery.user-session-start.json")));
    expect((await rowFor("f1d0b993-cc19-11ed-a688-db22c99ef6c4")).okta_org).toBe("{youroktadomain}");
  });

  it("accepts a LogEvent that is not in an envelope only when wrapped in one (Okta's guide sample)", async () => {
    const event = fixtureJson<Record<string, any>>("event-hook.logevent.user-lifecycle-deactivate.json");
    const res = await callWorker(eventHookPost(envelope([event])));
    expect(res.status).toBe(204);
    expect((await rowFor(event.uuid)).event_type).toBe("user.lifecycle.deactivate");
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
    expect(row).toMatchObject({ actor_id: null, outcome_result: null, severity: null, published: null });
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
    expect(queue.sent).toEqual([{ kind: "event", uuid: "04b1f1d4-4bbf-11ec-82ee-e73dada86765" }]);
  });

  it("stores an event that arrives in two different envelopes once, keeping the first envelope id", async () => {
    const queue = recordingQueue<ForwardMessage>();
    const shared = logEvent(10);
    await callWorker(eventHookPost(envelope([shared, logEvent(11)], "envelope-a")), { FORWARD_QUEUE: queue });
    await callWorker(eventHookPost(envelope([logEvent(12), shared], "envelope-b")), { FORWARD_QUEUE: queue });
    expect(await countRows("events")).toBe(3);
    expect((await rowFor(shared.uuid as string)).envelope_event_id).toBe("envelope-a");
    expect(queue.sent.map((m) => ("uuid" in m ? m.uuid : null))).toEqual([shared.uuid, logEvent(11).uuid, logEvent(12).uuid]);
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

  it("stores a 500-event delivery in one D1 round trip and enqueues every event", async () => {
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
    const res = await callWorker(eventHookPost(body), { FORWARD_QUEUE: queue, DB: countingDb });
    expect(res.status).toBe(204);
    expect(batches).toBe(1);
    expect(await countRows("events")).toBe(500);
    expect(queue.sent).toHaveLength(500);
    expect(new Set(queue.sent.map((m) => ("uuid" in m ? m.uuid : null))).size).toBe(500);
    const enqueued = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE forward_state IN ('enqueued', 'fanned_out')").first<{ n: number }>();
    expect(enqueued?.n).toBe(500);
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
  it("hands new events to the real local forward queue and marks them enqueued", async () => {
    const res = await callWorker(eventHookPost(envelope([logEvent(40), logEvent(41)])));
    expect(res.status).toBe(204);
    const rows = await env.DB.prepare("SELECT forward_state FROM events ORDER BY uuid").all<{ forward_state: string }>();
    for (const r of rows.results) expect(r.forward_state).toMatch(/^(enqueued|fanned_out)$/);
    expect(rows.results).toHaveLength(2);
  });

  it("still answers 204 when the queue is down, leaving the events pending for the sweeper", async () => {
    const queue = recordingQueue<ForwardMessage>({ fail: true });
    const warn = vi.spyOn(console, "warn");
    const res = await callWorker(eventHookPost(envelope([logEvent(50), logEvent(51)])), { FORWARD_QUEUE: queue });
    expect(res.status).toBe(204);
    // The request line is raised to warn so the failed hand-off stands out in `wrangler tail`.
    const line = warn.mock.calls.map(([l]) => JSON.parse(String(l)) as Record<string, unknown>).find((l) => l.msg === "request");
    expect(line).toMatchObject({ level: "warn", status: 204, stored: 2, enqueued: 0, enqueueError: expect.stringContaining("simulated") });
    warn.mockRestore();
    const rows = await env.DB.prepare("SELECT forward_state, enqueued_at FROM events").all<{ forward_state: string; enqueued_at: number | null }>();
    expect(rows.results).toEqual([
      { forward_state: "pending", enqueued_at: null },
      { forward_state: "pending", enqueued_at: null },
    ]);
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
    expect(queue.sent).toEqual([{ kind: "event", uuid: theirs.uuid }]);
    expect((await rowFor(ours.uuid as string)).forward_state).toBe("skipped");
    expect((await rowFor(theirs.uuid as string)).forward_state).toMatch(/^(enqueued|fanned_out)$/);
  });
});
