/**
 * The one-row-per-event schema under a random history: deliveries mixing new, repeated and already stored uuids,
 * two orgs, several types and outcomes, retention purging part of the old batches (some events held), purged
 * events delivered again. After each phase every batch lists exactly the events it stores, its types and failed
 * outcomes are exactly theirs, ids never repeat, and every search followed to its end with small pages and budgets
 * answers exactly what a brute-force selection of the table gives.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { runRetention } from "../../src/jobs/retention";
import { countEvents, searchEvents, type EventFilter } from "../../src/storage/event-search";
import { rng } from "../helpers/events";
import { request } from "../helpers/gateway";
import { clearEventStore, DAY_MS, eventText, giveDelivery, storeAt } from "../helpers/stored-events";

const NOW = Date.UTC(2026, 11, 20, 12, 0, 0);
const TYPES = ["user.session.start", "user.session.end", "user.lifecycle.create", "group.user_membership.add"];
const OUTCOMES = ["SUCCESS", "FAILURE", "DENY", "SKIPPED"];
const ORGS = ["acme.okta.com", "beta.okta.com"];
const LONG = { timeout: 120_000 };

interface Row {
  id: number;
  uuid: string;
  event_type: string;
  outcome_result: string | null;
  actor_id: string | null;
  received_at: number;
  batch_id: number;
  okta_org: string | null;
  forward: number;
  pending: number;
}

async function allEvents(): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    `SELECT e.id, e.uuid, e.event_type, e.outcome_result, e.actor_id, e.received_at, e.batch_id, b.okta_org, e.forward,
            o.batch_id IS NOT NULL AS pending
     FROM events e LEFT JOIN event_batches b ON b.id = e.batch_id LEFT JOIN forward_outbox o ON o.batch_id = e.batch_id ORDER BY e.id`,
  ).all<Row>();
  return results;
}

async function checkInvariants() {
  const events = await allEvents();
  const ids = events.map((e) => e.id);
  expect(new Set(ids).size, "ids unique").toBe(ids.length);
  const { results: batches } = await env.DB.prepare("SELECT id, first_event_id, event_count, uuids FROM event_batches ORDER BY id").all<{
    id: number;
    first_event_id: number;
    event_count: number;
    uuids: string;
  }>();
  for (const b of batches) {
    const own = events.filter((e) => e.batch_id === b.id);
    expect(JSON.parse(b.uuids), `batch ${b.id}'s list`).toEqual(own.map((e) => e.uuid));
    for (const e of own) expect(e.id >= b.first_event_id && e.id < b.first_event_id + b.event_count, `event ${e.id} in batch ${b.id}'s range`).toBe(true);
  }
  for (const e of events) expect(batches.some((b) => b.id === e.batch_id), `event ${e.uuid}'s batch row`).toBe(true);
  const pairs = (list: Array<[string, number]>) => [...new Set(list.map((p) => JSON.stringify(p)))].sort();
  const { results: types } = await env.DB.prepare("SELECT event_type, batch_id FROM batch_types").all<{ event_type: string; batch_id: number }>();
  expect(pairs(types.map((t) => [t.event_type, t.batch_id]))).toEqual(pairs(events.map((e) => [e.event_type, e.batch_id])));
  const { results: failures } = await env.DB.prepare("SELECT outcome_result, batch_id FROM batch_failures").all<{ outcome_result: string; batch_id: number }>();
  expect(pairs(failures.map((t) => [t.outcome_result, t.batch_id]))).toEqual(
    pairs(events.filter((e) => e.outcome_result === "FAILURE" || e.outcome_result === "DENY").map((e) => [e.outcome_result!, e.batch_id])),
  );
  return events;
}

function matches(e: Row, f: EventFilter): boolean {
  if (f.type !== undefined) {
    if (f.type.endsWith(".*") ? !e.event_type.startsWith(f.type.slice(0, -1)) : e.event_type !== f.type) return false;
  }
  if (f.outcome !== undefined && e.outcome_result !== f.outcome) return false;
  if (f.org !== undefined && e.okta_org !== f.org) return false;
  if (f.actor !== undefined && e.actor_id !== f.actor) return false;
  if (f.forward !== undefined) {
    const state = e.forward === 0 ? "skipped" : e.pending ? "pending" : e.forward === 2 ? "unrouted" : "fanned_out";
    if (!f.forward.includes(state)) return false;
  }
  if (f.time) {
    if (f.time.since !== undefined && e.received_at < f.time.since) return false;
    if (f.time.until !== undefined && e.received_at >= f.time.until) return false;
  }
  return true;
}

const FILTERS: EventFilter[] = [
  {},
  { type: "user.session.start" },
  { type: "user.session.*" },
  { type: "user.*" },
  { outcome: "FAILURE" },
  { outcome: "DENY", type: "user.session.*" },
  { outcome: "SKIPPED" },
  { org: "beta.okta.com" },
  { org: "beta.okta.com", type: "user.lifecycle.create" },
  { actor: "00u3" },
  { time: { field: "received", since: NOW - 35 * DAY_MS, until: NOW - 3 * DAY_MS } },
  { time: { field: "received", since: NOW - 20 * DAY_MS }, outcome: "FAILURE" },
  { forward: ["pending"] },
  { forward: ["unrouted", "skipped"], type: "user.session.*" },
  { forward: ["fanned_out"], org: "beta.okta.com" },
];

async function checkSearches(events: Row[], random: () => number) {
  for (const filter of FILTERS) {
    const want = events.filter((e) => matches(e, filter)).map((e) => e.id).reverse();
    for (const [limit, budget] of [
      [1 + Math.floor(random() * 6), 20 + Math.floor(random() * 60)],
      [50, 700],
    ] as const) {
      const got: number[] = [];
      let before: number | null = null;
      let pages = 0;
      do {
        const page = await searchEvents(env.DB, filter, { before, limit, budget });
        expect(page.events.length).toBeLessThanOrEqual(limit);
        got.push(...page.events.map((e) => e.id));
        before = page.nextBefore;
        pages++;
        expect(pages, `pages of ${JSON.stringify(filter)}`).toBeLessThan(2000);
      } while (before !== null);
      expect(got, `${JSON.stringify(filter)} limit ${limit} budget ${budget}`).toEqual(want);
    }
    const histogram = await countEvents(env.DB, filter, { before: null });
    expect(histogram.groups.reduce((n, g) => n + g.count, 0), `count of ${JSON.stringify(filter)}`).toBe(want.length);
  }
}

let random: () => number;
const known: string[] = [];

/** One delivery: new events, some repeated inside it, some already stored (or purged since). */
async function deliver(receivedAt: number) {
  const size = 1 + Math.floor(random() * 12);
  const texts: string[] = [];
  const org = ORGS[random() < 0.7 ? 0 : 1]!;
  for (let i = 0; i < size; i++) {
    const roll = random();
    let uuid: string;
    if (roll < 0.15 && known.length > 0) uuid = known[Math.floor(random() * known.length)]!;
    else if (roll < 0.25 && texts.length > 0) uuid = (JSON.parse(texts[Math.floor(random() * texts.length)]!) as { uuid: string }).uuid;
    else {
      uuid = crypto.randomUUID();
      known.push(uuid);
    }
    texts.push(
      eventText({
        uuid,
        eventType: TYPES[Math.floor(random() * TYPES.length)],
        outcome: { result: OUTCOMES[Math.floor(random() * OUTCOMES.length)] },
        actor: { id: `00u${Math.floor(random() * 8)}`, type: "User", alternateId: "x@example.com" },
      }),
    );
  }
  const flag = random();
  await storeAt(receivedAt, texts, { oktaOrg: org, forward: flag < 0.1 ? "yes" : flag < 0.2 ? "skip" : "unrouted" });
  // Some batches fanned out (out of the outbox), as the consumer leaves them.
  if (random() < 0.5) await env.DB.prepare("DELETE FROM forward_outbox WHERE batch_id = (SELECT max(id) FROM event_batches)").run();
}

beforeAll(async () => {
  await clearEventStore();
  random = rng(20261220);
});
afterEach(() => vi.restoreAllMocks());

describe("a random history on the one-row-per-event schema", LONG, () => {
  it("old deliveries: lists, types, failures, ids and every search exact", async () => {
    for (let i = 0; i < 60; i++) await deliver(NOW - 40 * DAY_MS + i * 3_600_000);
    for (let i = 0; i < 40; i++) await deliver(NOW - 10 * DAY_MS + i * 3_600_000);
    await checkSearches(await checkInvariants(), random);
  });

  it("after retention purged the old ones (some held): the same", async () => {
    const events = await allEvents();
    const old = events.filter((e) => e.received_at < NOW - 30 * DAY_MS);
    for (const e of old.filter(() => random() < 0.1)) await giveDelivery(e.uuid, "dst_a", "pending", NOW - 30 * DAY_MS);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    await runRetention(env as unknown as Env, NOW, { limits: { eventPage: 7, eventPagesPerRun: 1000 } });
    vi.restoreAllMocks();
    const left = await checkInvariants();
    expect(left.length).toBeLessThan(events.length);
    await checkSearches(left, random);
  });

  it("purged events delivered again, and more: the same, and new ids above every old one", async () => {
    const before = Math.max(...(await allEvents()).map((e) => e.id));
    for (let i = 0; i < 40; i++) await deliver(NOW - DAY_MS + i * 60_000);
    const events = await checkInvariants();
    const fresh = events.filter((e) => e.received_at >= NOW - DAY_MS);
    expect(Math.min(...fresh.map((e) => e.id))).toBeGreaterThan(before);
    await checkSearches(events, random);
  });
});

describe("deliveries larger than one batch", LONG, () => {
  it("split in several batches, mixing new, repeated and stored uuids (a whole group of repeats too): each event once, lists exact", async () => {
    await clearEventStore();
    const pad = "x".repeat(120_000);
    const big = (uuid: string, type = "user.session.start", result = "SUCCESS") =>
      eventText({ uuid, eventType: type, outcome: { result }, debugContext: { debugData: { pad } } });
    const a = Array.from({ length: 30 }, () => crypto.randomUUID());
    // 30 events of ~120 kB: three batches of up to 12.
    await storeAt(NOW - 5000, a.slice(0, 12).map((u) => big(u)));
    const texts = [
      ...a.slice(0, 12).map((u) => big(u)), // the first group: all stored already
      ...a.slice(12, 24).map((u, i) => big(u, i % 2 ? "user.lifecycle.create" : "user.session.end", i % 3 ? "SUCCESS" : "DENY")),
      big(a[13]!), // a repeat of the delivery's own
      ...a.slice(24).map((u) => big(u, "group.user_membership.add", "FAILURE")),
      big(a[0]!),
    ];
    const result = await storeAt(NOW - 4000, texts);
    expect(result.inserted).toEqual(a.slice(12));
    expect(result.duplicates).toBe(texts.length - 18);
    const batches = await env.DB.prepare("SELECT count(*) AS n FROM event_batches").first<{ n: number }>();
    expect(batches!.n, "the first delivery's batch and the second's two (its first group stored nothing)").toBe(3);
    const events = await checkInvariants();
    expect(events.map((e) => e.uuid).sort()).toEqual([...a].sort());
    await checkSearches(events, random);
  });
});

describe("concurrent deliveries sharing uuids", LONG, () => {
  it("each event stored once, in one batch, whatever delivery won", async () => {
    await clearEventStore();
    const pool = Array.from({ length: 40 }, () => crypto.randomUUID());
    const deliveries = Array.from({ length: 12 }, (_, d) =>
      Array.from({ length: 8 }, (_, i) => eventText({ uuid: pool[(d * 5 + i * 3) % pool.length], eventType: TYPES[i % TYPES.length] })),
    );
    const results = await Promise.all(deliveries.map((texts, d) => storeAt(NOW - 1000 + d, texts)));
    const inserted = results.flatMap((r) => r.inserted);
    expect(new Set(inserted).size).toBe(inserted.length);
    const events = await checkInvariants();
    expect(events.map((e) => e.uuid).sort()).toEqual([...new Set(deliveries.flat().map((t) => (JSON.parse(t) as { uuid: string }).uuid))].sort());
    expect(inserted.sort()).toEqual(events.map((e) => e.uuid).sort());
  });
});

describe("a batch's list naming an event of another batch", LONG, () => {
  it("search and count still give the event once, with its own batch's facts (the batch id is checked, as ingest, fan-out and retention do)", async () => {
    await clearEventStore();
    const mine = await storeAt(NOW - 2000, [eventText({ eventType: "user.session.start" })], { oktaOrg: "acme.okta.com" });
    await storeAt(NOW - 1000, [eventText({ eventType: "user.session.start" })], { oktaOrg: "beta.okta.com" });
    // The newer batch's list also names the older batch's event (a list left stale by a hand, or a bug).
    await env.DB.prepare("UPDATE event_batches SET uuids = json_insert(uuids, '$[#]', ?1) WHERE id = (SELECT max(id) FROM event_batches)")
      .bind(mine.inserted[0])
      .run();
    const res = await request(`/admin/api/events?org=beta.okta.com`, { as: "admin" });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { events: Array<{ uuid: string; oktaOrg: string }> };
    expect(page.events.map((e) => e.uuid)).not.toContain(mine.inserted[0]);
    const all = (await (await request(`/admin/api/events`, { as: "admin" })).json()) as { events: Array<{ uuid: string; oktaOrg: string }> };
    expect(all.events.filter((e) => e.uuid === mine.inserted[0])).toEqual([expect.objectContaining({ oktaOrg: "acme.okta.com" })]);
    const count = await countEvents(env.DB, {}, { before: null });
    expect(count.groups.reduce((n, g) => n + g.count, 0)).toBe(2);
  });
});
