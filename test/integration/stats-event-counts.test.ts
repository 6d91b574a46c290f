/**
 * The events-received rollup is kept by the ingest transaction itself: every newly stored event counts once in
 * its hour and type; duplicates — within a delivery, across deliveries, a whole redelivered envelope — never count.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../src/storage/stats-events";
import { envelope, eventHookPost, logEvent } from "../helpers/okta";
import { countsAt, eventText, storeAt } from "../helpers/stored-events";
import { callWorker, recordingQueue } from "../helpers/worker";

const T0 = Date.UTC(2026, 5, 1, 10, 15, 0);
const HOUR = Math.floor(T0 / HOUR_MS);

describe("event_counts is maintained in the ingest transaction", () => {
  it("counts newly stored events per hour and type, and never a duplicate", async () => {
    const a = eventText({ eventType: "user.session.start" });
    const b = eventText({ eventType: "user.session.start" });
    const c = eventText({ eventType: "user.lifecycle.create" });
    const first = await storeAt(T0, [a, b, c, a]); // `a` twice within the delivery
    expect(first.inserted).toHaveLength(3);
    expect(await countsAt(HOUR)).toEqual({ "user.session.start": 2, "user.lifecycle.create": 1 });

    // The same delivery again (Okta's retry): nothing new, nothing counted.
    const again = await storeAt(T0 + 1000, [a, b, c]);
    expect(again.inserted).toEqual([]);
    expect(await countsAt(HOUR)).toEqual({ "user.session.start": 2, "user.lifecycle.create": 1 });

    // New and old mixed: only the new one counts.
    const d = eventText({ eventType: "user.lifecycle.create" });
    await storeAt(T0 + 2000, [c, d, a]);
    expect(await countsAt(HOUR)).toEqual({ "user.session.start": 2, "user.lifecycle.create": 2 });
  });

  it("puts a delivery in the hour it arrived (UTC), the next hour in its own rows", async () => {
    const nextHour = (HOUR + 1) * HOUR_MS;
    await storeAt(nextHour - 1, [eventText({ eventType: "policy.evaluate_sign_on" })]);
    await storeAt(nextHour, [eventText({ eventType: "policy.evaluate_sign_on" }), eventText({ eventType: "policy.evaluate_sign_on" })]);
    expect((await countsAt(HOUR))["policy.evaluate_sign_on"]).toBe(1);
    expect(await countsAt(HOUR + 1)).toEqual({ "policy.evaluate_sign_on": 2 });
  });

  it("counts loop-guarded and unrouted events too: they are stored, so they were received", async () => {
    const hour = HOUR + 5;
    await storeAt(hour * HOUR_MS, [eventText({ eventType: "app.oauth2.as.token.grant" })], { forward: "skip" });
    await storeAt(hour * HOUR_MS + 1, [eventText({ eventType: "app.oauth2.as.token.grant" })], { forward: "yes" });
    expect(await countsAt(hour)).toEqual({ "app.oauth2.as.token.grant": 2 });
  });

  it("a delivery through the route adds its new events, and its redelivery adds none", async () => {
    const before = await totalCount();
    const events = [logEvent(501, { uuid: `route-${crypto.randomUUID()}` }), logEvent(502, { uuid: `route-${crypto.randomUUID()}` })];
    const body = envelope([...events, events[0]]);
    expect((await callWorker(eventHookPost(body), { FORWARD_QUEUE: recordingQueue() })).status).toBe(204);
    expect(await totalCount()).toBe(before + 2);
    expect((await callWorker(eventHookPost(body), { FORWARD_QUEUE: recordingQueue() })).status).toBe(204);
    expect(await totalCount()).toBe(before + 2);
  });

  it("writes one rollup row per delivery however many types it mixes: 20 types cost only their 19 more batch_types entries", async () => {
    const { meteredDatabase, newUsage } = await import("../../src/storage/d1");
    const { storeDelivery, FORWARD } = await import("../../src/storage/events");
    const { incomingEvent, logEventSchema } = await import("../../src/okta/event-hook");
    const written = async (types: (i: number) => string, hour: number) => {
      const texts = Array.from({ length: 20 }, (_, i) => eventText({ eventType: types(i) }));
      const usage = newUsage();
      await storeDelivery(
        meteredDatabase(env.DB, usage),
        texts.map((t) => incomingEvent(logEventSchema.parse(JSON.parse(t)), t)),
        { oktaOrg: null, eventHookId: null, envelopeEventId: null, receivedAt: hour * HOUR_MS, forward: texts.map(() => FORWARD.skip), routingVersion: null },
      );
      return usage.rowsWritten;
    };
    // Each twice: the first delivery of an hour inserts its row, later ones update it.
    const oneType = [await written(() => "user.session.start", HOUR + 20), await written(() => "user.session.start", HOUR + 20)];
    const manyTypes = [await written((i) => `app.type${i}.event`, HOUR + 21), await written((i) => `app.type${i}.event`, HOUR + 21)];
    // The batch's (type, batch) entries are one per distinct type (migrations/0010); the rollup's row is one however
    // many types the delivery mixes.
    expect(manyTypes.map((n, i) => n - oneType[i]!)).toEqual([19, 19]);
    expect(Object.keys(await countsAt(HOUR + 21))).toHaveLength(20);
    expect(Object.values(await countsAt(HOUR + 21))).toEqual(Array.from({ length: 20 }, () => 2));
  });

  it("a failed ingest transaction counts nothing: the rollup commits with the events or not at all", async () => {
    const before = await totalCount();
    // The batch row's insert is in the same transaction as the rollup's upsert; make it fail.
    await env.DB.exec("CREATE TRIGGER test_fail_batch BEFORE INSERT ON event_batches BEGIN SELECT RAISE(ABORT, 'test: batch refused'); END");
    try {
      await expect(storeAt(T0, [eventText({ eventType: "user.session.end" })])).rejects.toThrow(/batch refused/);
    } finally {
      await env.DB.exec("DROP TRIGGER test_fail_batch");
    }
    expect(await totalCount()).toBe(before);
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE event_type = 'user.session.end'").first<{ n: number }>();
    expect(stored!.n).toBe(0);
  });
});

async function totalCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT coalesce(sum(j.value), 0) AS n FROM event_counts c JOIN json_each(c.counts) j").first<{ n: number }>();
  return row!.n;
}
