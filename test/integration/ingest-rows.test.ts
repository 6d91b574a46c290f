/**
 * The ingest transaction on the one-row-per-event schema (migrations/0010): what it writes per event and per
 * delivery as D1 counts it (`meta.rows_written`, every b-tree entry), that what it reads does not grow with the
 * table, and how ids are handed out (gaps where a duplicate took none; never below an id already stored).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { incomingEvent, logEventSchema } from "../../src/okta/event-hook";
import { meteredDatabase, newUsage } from "../../src/storage/d1";
import { FORWARD, storeDelivery } from "../../src/storage/events";
import { eventText } from "../helpers/stored-events";

const T0 = Date.UTC(2026, 5, 1, 10, 15, 0);

async function store(texts: readonly string[], receivedAt = T0) {
  const usage = newUsage();
  const result = await storeDelivery(
    meteredDatabase(env.DB, usage),
    texts.map((t) => incomingEvent(logEventSchema.parse(JSON.parse(t)), t)),
    { oktaOrg: "acme.okta.com", eventHookId: null, envelopeEventId: null, receivedAt, forward: texts.map(() => FORWARD.yes), routingVersion: null },
  );
  return { result, usage };
}

const texts = (n: number, changes: (i: number) => Record<string, unknown> = () => ({ eventType: "user.session.start" })) =>
  Array.from({ length: n }, (_, i) => eventText(changes(i)));

beforeEach(async () => {
  await env.DB.batch(
    ["events", "event_batches", "event_payloads", "forward_outbox", "batch_types", "batch_failures", "event_counts"].map((t) =>
      env.DB.prepare(`DELETE FROM ${t}`),
    ),
  );
});

describe("the ingest on the one-row-per-event schema", () => {
  it("writes one row per event: 40 events of a type cost exactly 20 rows more than 20 (and the delivery's own rows are few)", async () => {
    const twenty = (await store(texts(20))).usage.rowsWritten;
    const forty = (await store(texts(40))).usage.rowsWritten;
    expect(forty - twenty).toBe(20);
    // The delivery's own: the batch row and its two index entries, one (type, batch) entry, the rollup's row, the
    // payload row, the outbox row. Nothing per event beyond its one row.
    expect(twenty - 20).toBe(7);
  });

  it("a failed or denied outcome adds one (outcome, batch) entry per delivery, not per event", async () => {
    const plain = (await store(texts(10))).usage.rowsWritten;
    const failed = (await store(texts(10, () => ({ eventType: "user.session.start", outcome: { result: "FAILURE" } })))).usage.rowsWritten;
    expect(failed - plain).toBe(1);
    const { results } = await env.DB.prepare("SELECT outcome_result, batch_id FROM batch_failures").all();
    expect(results).toHaveLength(1);
  });

  it("what a delivery reads does not grow with the events already stored (no scan of `events`)", async () => {
    const reads = async () => (await store(texts(5))).usage.rowsRead;
    const early = await reads();
    for (let i = 0; i < 15; i++) await store(texts(200));
    const late = await reads();
    // 3,000 more events stored; the delivery reads the same few rows (its own, the newest batch, its hour's rollup).
    expect(late).toBeLessThanOrEqual(early + 10);
    expect(late).toBeLessThan(200);
  });

  it("lists the new events in their batch, skips duplicates (leaving their ids unused) and records each type once", async () => {
    const [old] = texts(1);
    const first = await store([old!]);
    expect(first.result.inserted).toHaveLength(1);
    const a = eventText({ eventType: "user.session.start" });
    const b = eventText({ eventType: "user.lifecycle.create" });
    const c = eventText({ eventType: "user.session.start" });
    const second = await store([a, old!, b, a, c]);
    expect(second.result.inserted).toHaveLength(3);
    expect(second.result.duplicates).toBe(2);
    const batch = await env.DB.prepare("SELECT id, first_event_id, event_count, uuids FROM event_batches ORDER BY id DESC LIMIT 1").first<{
      id: number;
      first_event_id: number;
      event_count: number;
      uuids: string;
    }>();
    const uuid = (t: string) => (JSON.parse(t) as { uuid: string }).uuid;
    expect(JSON.parse(batch!.uuids)).toEqual([uuid(a), uuid(b), uuid(c)]);
    const { results: ids } = await env.DB.prepare("SELECT uuid, id, batch_id FROM events WHERE batch_id = ?1").bind(batch!.id).all<{ uuid: string; id: number }>();
    // Positions 0, 2 and 4 of the delivery: the duplicates at 1 and 3 took no id.
    expect(Object.fromEntries(ids.map((r) => [r.uuid, r.id - batch!.first_event_id]))).toEqual({ [uuid(a)]: 0, [uuid(b)]: 2, [uuid(c)]: 4 });
    expect(batch!.event_count).toBe(5);
    const { results: types } = await env.DB.prepare("SELECT event_type FROM batch_types WHERE batch_id = ?1 ORDER BY 1").bind(batch!.id).all();
    expect(types).toEqual([{ event_type: "user.lifecycle.create" }, { event_type: "user.session.start" }]);
    // The next delivery starts above the whole range of the previous one.
    await store(texts(1));
    const next = await env.DB.prepare("SELECT first_event_id FROM event_batches ORDER BY id DESC LIMIT 1").first<{ first_event_id: number }>();
    expect(next!.first_event_id).toBe(batch!.first_event_id + 5);
  });

  it("a redelivery of only known events writes nothing and inserts no batch", async () => {
    const delivery = texts(3);
    await store(delivery);
    const again = await store(delivery);
    expect(again.result.inserted).toEqual([]);
    expect(again.usage.rowsWritten).toBe(0);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM event_batches").first<{ n: number }>())!.n).toBe(1);
  });
});
