/**
 * Retention with a controlled clock against local D1: what is purged, what is kept (young rows, held events, the
 * newest batch), what a batch purged in part keeps (its row, the uuid list, types and failed outcomes of the events
 * left), how much one run does and reads, and the age-only purges.
 */
import { env } from "cloudflare:workers";
import { createScheduledController, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { RETENTION_CRON, runRetention, type RetentionOptions } from "../../src/jobs/retention";
import type { InlineHookType } from "../../src/okta/inline/common";
import { insertInlineCallBatch, listInlineCalls, type InlineCallRecord } from "../../src/storage/inline-calls";
import { EVENT_HOLDS } from "../../src/storage/retention-holds";
import { envWith } from "../helpers/forwarding";
import { readsMeasured } from "../helpers/reads-measured";
import {
  clearEventStore,
  DAY_MS,
  eventText,
  giveBatchDelivery,
  giveDelivery,
  storeAt,
  storedIds,
  tableCounts,
} from "../helpers/stored-events";

const NOW = Date.UTC(2026, 11, 20, 12, 0, 0);
const OLD = NOW - 40 * DAY_MS;
const YOUNG = NOW - 2 * DAY_MS;

/** Run retention at NOW with the default ages (30 days of events), capturing its log line. */
async function retain(options: RetentionOptions = {}, e: Env = env as unknown as Env) {
  const logs = vi.spyOn(console, "log").mockImplementation(() => undefined);
  const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    const report = await runRetention(e, NOW, options);
    return { report, line: retentionLine([...logs.mock.calls, ...errors.mock.calls]) };
  } finally {
    logs.mockRestore();
    errors.mockRestore();
  }
}

function retentionLine(calls: unknown[][]): Record<string, unknown> | undefined {
  return calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "retention");
}

beforeEach(clearEventStore);
afterEach(() => vi.restoreAllMocks());

describe("retention purges what is older than RETENTION_EVENT_DAYS, and nothing else", () => {
  it("removes old events with their batch rows, first-attempt records, deliveries and attempts; keeps young ones", async () => {
    const old = await storeAt(OLD, [eventText(), eventText()]);
    const oldBatch = (await storedIds())[0]!.batch_id!;
    await giveBatchDelivery(oldBatch, "dst_a", [[1, 200, 10, OLD]], OLD);
    await giveDelivery(old.inserted[1]!, "dst_b", "dead", OLD);
    const young = await storeAt(YOUNG, [eventText()]);
    const youngBatch = (await storedIds()).at(-1)!.batch_id!;
    await giveBatchDelivery(youngBatch, "dst_a", [[3, 200, 10, YOUNG]], YOUNG);
    await storeAt(NOW - 1000, [eventText()]); // the newest

    const { report, line } = await retain();
    expect(report).toMatchObject({ events: 2, batches: 1, batchDeliveries: 1, deliveries: 1, attempts: 1, heldEvents: 0, more: false });
    expect(line).toMatchObject({ level: "info", events: 2, batches: 1, deliveries: 1, attempts: 1, heldEvents: 0, more: false });
    const left = await storedIds();
    expect(left.map((e) => e.uuid)).toEqual([...young.inserted, expect.any(String)]);
    expect(await tableCounts()).toMatchObject({ events: 2, event_batches: 2, event_payloads: 2, batch_deliveries: 1, deliveries: 0, delivery_attempts: 0 });
  });

  it("never purges the newest batch, row or events, however old: the next batch and event ids follow it", async () => {
    await storeAt(OLD, [eventText()]);
    await storeAt(OLD + 1000, [eventText(), eventText()]);
    const ids = await storedIds();
    const { report } = await retain();
    expect(report).toMatchObject({ events: 1, batches: 1, heldEvents: 0, more: false });
    const left = await storedIds();
    expect(left.map((e) => e.id)).toEqual(ids.slice(1).map((e) => e.id));
    expect(await tableCounts()).toMatchObject({ events: 2, event_batches: 1, event_payloads: 1, batch_types: 1 });
    // A later delivery gets fresh ids, never one that was used.
    await storeAt(NOW, [eventText()]);
    expect((await storedIds()).at(-1)!.id).toBe(ids.at(-1)!.id + 1);
  });

  it("keeps an event whose batch is still in the outbox, and its batch row", async () => {
    const held = await storeAt(OLD, [eventText()], { forward: "yes" });
    expect(held.outboxBatchIds).toHaveLength(1);
    const purgeable = await storeAt(OLD + 1000, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain();
    expect(report).toMatchObject({ events: 1, heldEvents: 1 });
    const uuids = (await storedIds()).map((e) => e.uuid);
    expect(uuids).toContain(held.inserted[0]);
    expect(uuids).not.toContain(purgeable.inserted[0]);
  });

  it.each(["pending", "failed", "waiting"] as const)("keeps an event with a %s delivery until it is finished, then purges it", async (state) => {
    const stored = await storeAt(OLD, [eventText(), eventText()]);
    const [heldUuid, freeUuid] = stored.inserted as [string, string];
    await giveDelivery(heldUuid, "dst_a", state, OLD);
    await giveDelivery(heldUuid, "dst_b", "delivered", OLD);
    await giveDelivery(freeUuid, "dst_a", "dead", OLD);
    await storeAt(NOW, [eventText()]);

    const first = await retain();
    expect(first.report).toMatchObject({ events: 1, deliveries: 1, attempts: 1, batches: 0, heldEvents: 1 });
    // The held event keeps every delivery and attempt of its own, and its batch row (one of its events is left).
    expect(await tableCounts()).toMatchObject({ events: 2, deliveries: 2, delivery_attempts: 2, event_batches: 2 });

    await env.DB.prepare("UPDATE deliveries SET state = 'delivered' WHERE event_uuid = ?1").bind(heldUuid).run();
    const second = await retain();
    expect(second.report).toMatchObject({ events: 1, deliveries: 2, attempts: 2, batches: 1, heldEvents: 0 });
    expect(await tableCounts()).toMatchObject({ events: 1, deliveries: 0, delivery_attempts: 0, event_batches: 1 });
  });

  it("checks every hold again inside the delete: an event that became held after it was picked stays", async () => {
    const stored = await storeAt(OLD, [eventText(), eventText()]);
    await storeAt(NOW, [eventText()]);
    const { purgeCandidates, purgeEvents, purgeBound, PURGE_START } = await import("../../src/storage/retention");
    const cutoff = NOW - 30 * DAY_MS;
    const candidates = await purgeCandidates(env.DB, { cursor: PURGE_START, bound: (await purgeBound(env.DB, cutoff))!, cutoff, limit: 10 });
    expect(candidates.map((c) => c.uuid)).toEqual(stored.inserted);
    await giveDelivery(stored.inserted[0]!, "dst_a", "waiting", NOW); // e.g. a replay or a resume, meanwhile
    const purged = await purgeEvents(env.DB, candidates);
    expect(purged.deletedIds).toEqual([candidates[1]!.id]);
    expect(purged).toMatchObject({ events: 1, deliveries: 0, attempts: 0, batches: 0 });
    expect((await storedIds()).map((e) => e.uuid)).toContain(stored.inserted[0]);
  });

  it("the holds tested above (and the jobs' in retention-replay.test.ts) are exactly the ones retention checks: a new hold in retention-holds.ts needs its own case", async () => {
    expect(EVENT_HOLDS.map((h) => h.name)).toEqual([
      "batch in forward_outbox",
      "delivery pending, failed or waiting",
      "in the range of a running replay",
      "dead letter of a running redrive",
    ]);
  });

  it("keeps everything when RETENTION_EVENT_DAYS is 0", async () => {
    await storeAt(OLD - 3000 * DAY_MS, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain({}, envWith({ RETENTION_EVENT_DAYS: "0" }));
    expect(report.events).toBe(0);
    expect((await tableCounts()).events).toBe(2);
  });

  it("uses the configured age: RETENTION_EVENT_DAYS=1 purges the two-day-old event too", async () => {
    await storeAt(OLD, [eventText()]);
    await storeAt(YOUNG, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain({}, envWith({ RETENTION_EVENT_DAYS: "1" }));
    expect(report.events).toBe(2);
  });
});

/** A batch's uuid list and its (type, batch) and (outcome, batch) entries. */
async function batchRows(batchId: number) {
  const [list, types, failures] = await env.DB.batch<Record<string, string>>([
    env.DB.prepare("SELECT uuids FROM event_batches WHERE id = ?1").bind(batchId),
    env.DB.prepare("SELECT event_type FROM batch_types WHERE batch_id = ?1 ORDER BY event_type").bind(batchId),
    env.DB.prepare("SELECT outcome_result FROM batch_failures WHERE batch_id = ?1 ORDER BY outcome_result").bind(batchId),
  ]);
  const row = list!.results[0];
  return {
    uuids: row ? (JSON.parse(row.uuids!) as string[]) : null,
    types: types!.results.map((r) => r.event_type),
    failures: failures!.results.map((r) => r.outcome_result),
  };
}

describe("a batch's own rows follow its events (migrations/0010)", () => {
  it("a batch partly purged keeps its row, lists only the events it keeps, and only their types and failed outcomes; the rest go with its last event", async () => {
    const texts = [
      eventText({ eventType: "user.session.start", outcome: { result: "FAILURE" } }),
      eventText({ eventType: "user.lifecycle.create", outcome: { result: "DENY" } }),
      eventText({ eventType: "user.session.start" }),
    ];
    const stored = await storeAt(OLD, texts);
    const batchId = (await storedIds())[0]!.batch_id!;
    const [kept] = stored.inserted as [string];
    await giveDelivery(kept, "dst_a", "failed", OLD);
    await giveBatchDelivery(batchId, "dst_b", [[1, 200, 10, OLD]], OLD);
    await storeAt(NOW, [eventText()]);
    expect(await batchRows(batchId)).toEqual({ uuids: stored.inserted, types: ["user.lifecycle.create", "user.session.start"], failures: ["DENY", "FAILURE"] });

    const first = await retain();
    expect(first.report).toMatchObject({ events: 2, batches: 0, batchDeliveries: 0, payloads: 0, heldEvents: 1 });
    expect(await batchRows(batchId)).toEqual({ uuids: [kept], types: ["user.session.start"], failures: ["FAILURE"] });
    expect(await tableCounts()).toMatchObject({ event_payloads: 2, batch_deliveries: 1 });

    await env.DB.prepare("UPDATE deliveries SET state = 'dead' WHERE event_uuid = ?1").bind(kept).run();
    const second = await retain();
    expect(second.report).toMatchObject({ events: 1, batches: 1, batchDeliveries: 1, payloads: 1, heldEvents: 0 });
    expect(await batchRows(batchId)).toEqual({ uuids: null, types: [], failures: [] });
    // Only the newest batch's rows are left.
    expect(await tableCounts()).toMatchObject({ events: 1, event_batches: 1, batch_types: 1, batch_failures: 0, event_payloads: 1, batch_deliveries: 0 });
  });

  it("an event purged and delivered again later is a new event of its new batch only, never again of the old one", async () => {
    const again = eventText();
    const old = await storeAt(OLD, [eventText(), again]);
    const oldBatch = (await storedIds())[0]!.batch_id!;
    await giveDelivery(old.inserted[0]!, "dst_a", "waiting", OLD);
    await storeAt(YOUNG, [eventText()]);
    expect((await retain()).report).toMatchObject({ events: 1, batches: 0 });
    expect((await batchRows(oldBatch)).uuids).toEqual([old.inserted[0]]);

    // Okta (or an import) sends the purged event again: it is new, stored in a batch of its own arrival.
    const redelivered = await storeAt(NOW, [again]);
    expect(redelivered.inserted).toEqual([old.inserted[1]]);
    const newBatch = (await storedIds()).at(-1)!.batch_id!;
    expect((await batchRows(newBatch)).uuids).toEqual([old.inserted[1]]);

    // The old batch, once its last event goes, takes nothing of the new one with it.
    await env.DB.prepare("UPDATE deliveries SET state = 'delivered' WHERE event_uuid = ?1").bind(old.inserted[0]).run();
    expect((await retain()).report).toMatchObject({ events: 1, batches: 1 });
    expect((await storedIds()).map((e) => e.uuid)).toContain(old.inserted[1]);
    expect(await batchRows(newBatch)).toMatchObject({ uuids: [old.inserted[1]], types: ["user.lifecycle.create"] });
  });

  it("reads the held backlog and the page, not the table: young events and the old ones behind the page cost no read", async () => {
    const inOutbox = await storeAt(OLD, [eventText(), eventText(), eventText()], { forward: "yes" });
    expect(inOutbox.outboxBatchIds).toHaveLength(1);
    const held = await storeAt(OLD + 1, [eventText(), eventText()]);
    for (const uuid of held.inserted) await giveDelivery(uuid, "dst_a", "pending", OLD);
    for (let i = 0; i < 30; i++) await storeAt(OLD + 2 + i, [eventText(), eventText(), eventText()]);
    for (let i = 0; i < 4; i++) await storeAt(YOUNG + i, Array.from({ length: 100 }, () => eventText()));

    const { meteredDatabase } = await import("../../src/storage/d1");
    const { purgeBound, purgeCandidates, purgeEvents, PURGE_START, cursorAfter } = await import("../../src/storage/retention");
    const usage = () => ({ queries: 0, rowsRead: 0, rowsWritten: 0, ms: 0 });
    const cutoff = NOW - 30 * DAY_MS;
    const boundUsage = usage();
    const bound = (await purgeBound(meteredDatabase(env.DB, boundUsage), cutoff))!;
    expect(boundUsage.rowsRead).toBeLessThanOrEqual(4);

    let cursor = PURGE_START;
    for (let page = 0; page < 3; page++) {
      const read = usage();
      const candidates = await purgeCandidates(meteredDatabase(env.DB, read), { cursor, bound, cutoff, limit: 5 });
      expect(candidates).toHaveLength(5);
      // The two held batches before the page, the page's batches (the last one's events all: it is sorted whole),
      // about 2 rows per batch and 6 per event looked at (its list entry, its row, its holds' lookups), and the
      // payloads: measured ~65, where a scan of the table alone would read its 500 events.
      expect(read.rowsRead, `page ${page}`).toBeLessThanOrEqual(100);
      const written = usage();
      const purged = await purgeEvents(meteredDatabase(env.DB, written), candidates);
      expect(purged.events).toBe(5);
      // The delete looks up each of its events again (row and holds), and its batches' lists: measured ~110–140.
      expect(written.rowsRead, `page ${page}: the delete`).toBeLessThanOrEqual(200);
      // One row per event, and a few per batch of the page (≤ 3): its row and index entries, type entry, payload,
      // or its rewritten uuid list.
      expect(written.rowsWritten, `page ${page}: written`).toBeLessThanOrEqual(5 + 5 * 3);
      cursor = cursorAfter(candidates, cursor);
    }
  });
});

describe("retention is bounded per run", () => {
  it("purges at most eventPage × eventPagesPerRun events a run, says `more`, and the next run continues", async () => {
    for (let i = 0; i < 7; i++) await storeAt(OLD + i, [eventText(), eventText()]);
    await storeAt(NOW, [eventText()]);
    const limits = { eventPage: 3, eventPagesPerRun: 2 };
    const first = await retain({ limits });
    expect(first.report).toMatchObject({ events: 6, more: true, heldEvents: null });
    expect(first.line).toMatchObject({ events: 6, more: true });
    const second = await retain({ limits });
    expect(second.report).toMatchObject({ events: 6, more: true });
    const third = await retain({ limits });
    expect(third.report).toMatchObject({ events: 2, more: false, heldEvents: 0 });
    expect((await tableCounts()).events).toBe(1);
  });

  it("a page takes at most eventPageBytes of event text (plus its last event), and the run still purges them all", async () => {
    // Large events (up to 1,000,000 bytes each get stored): a page is held in memory as hex, as text and as its archive.
    const big = () => eventText({ debugContext: { debugData: { blob: "x".repeat(300_000) } } });
    for (let i = 0; i < 6; i++) await storeAt(OLD + i, [big()]);
    await storeAt(NOW, [eventText()]);
    const hexRead: number[] = [];
    const measured = envWith({ DB: hexMeasured(env.DB, (chars) => hexRead.push(chars)) });
    const { report } = await retain({ limits: { eventPageBytes: 700_000 } }, measured);
    expect(report).toMatchObject({ events: 6, more: false, heldEvents: 0 });
    expect(hexRead.length).toBeGreaterThan(1);
    // Under 700,000 bytes before the page's last event, plus that event: at most ~1 MB of text, 2 MB as hex.
    for (const chars of hexRead) expect(chars).toBeLessThanOrEqual(2 * 1_000_000);
    expect((await tableCounts()).events).toBe(1);
  });

  it("held events at the head of the table do not stop the purge behind them", async () => {
    const held = await storeAt(OLD, [eventText(), eventText(), eventText(), eventText()]);
    for (const uuid of held.inserted) await giveDelivery(uuid, "dst_a", "failed", OLD);
    await storeAt(OLD + 1000, [eventText(), eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain({ limits: { eventPage: 2, eventPagesPerRun: 2 } });
    expect(report).toMatchObject({ events: 2, heldEvents: 4, more: false });
  });

  it("stops starting pages once the run's time budget is spent", async () => {
    for (let i = 0; i < 4; i++) await storeAt(OLD + i, [eventText()]);
    await storeAt(NOW, [eventText()]);
    let t = 0;
    const clock = () => (t += 40); // every look at the clock: 40 ms later
    const { report } = await retain({ clock, limits: { eventPage: 1, runBudgetMs: 100 } });
    expect(report.more).toBe(true);
    expect(report.events).toBeGreaterThan(0);
    expect(report.events).toBeLessThan(4);
  });
});

describe("age-only purges: dead letters, inline hook calls, the stats rollup", () => {
  it("removes dead letters recorded before RETENTION_DEAD_LETTER_DAYS, keeps the rest", async () => {
    await env.DB.batch([
      env.DB.prepare("INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES ('a', 'dst_a', 'HTTP 410', 1, ?1)").bind(OLD),
      env.DB.prepare("INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES ('b', '', 'unforwardable', 0, ?1)").bind(OLD),
      env.DB.prepare("INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES ('c', 'dst_a', 'HTTP 410', 1, ?1)").bind(YOUNG),
    ]);
    const { report, line } = await retain();
    expect(report.steps.deadLetters).toBe(2);
    expect(line).toMatchObject({ deadLetters: 2 });
    const { results } = await env.DB.prepare("SELECT event_uuid FROM dead_letters").all<{ event_uuid: string }>();
    expect(results.map((r) => r.event_uuid)).toEqual(["c"]);
  });

  it("removes inline hook call rows whose latest call is older than RETENTION_INLINE_CALL_DAYS (7 by default), in pages", async () => {
    await env.DB.prepare("DELETE FROM inline_call_batches").run();
    const call = (hookType: InlineHookType, receivedAt: number): InlineCallRecord => ({
      hookType,
      requestType: null,
      oktaRequestId: null,
      eventId: null,
      decision: "empty",
      decidedBy: "default",
      fallbackReason: null,
      commands: [],
      status: 204,
      latencyMs: 1,
      receivedAt,
    });
    // Five old rows of two types, one row straddling the cutoff (kept: its latest call is young), one young row.
    const cutoff = NOW - 7 * DAY_MS;
    for (let i = 0; i < 5; i++) {
      const type = i % 2 === 0 ? "token" : "registration";
      await insertInlineCallBatch(env.DB, type, [call(type, NOW - 8 * DAY_MS - i), call(type, NOW - 8 * DAY_MS - i + 1)]);
    }
    await insertInlineCallBatch(env.DB, "saml", [call("saml", cutoff - 10_000), call("saml", cutoff + 10_000)]);
    await insertInlineCallBatch(env.DB, "token", [call("token", NOW - 6 * DAY_MS)]);
    const { report } = await retain({ limits: { stepPage: 2, stepPagesPerRun: 2 } });
    expect(report.steps.inlineCalls).toBe(4);
    expect(report.more).toBe(true);
    const again = await retain({ limits: { stepPage: 2, stepPagesPerRun: 2 } });
    expect(again.report.steps.inlineCalls).toBe(1);
    const left = await listInlineCalls(env.DB, { limit: 10 });
    expect(left.calls.map((c) => [c.hookType, c.receivedAt])).toEqual([
      ["token", NOW - 6 * DAY_MS],
      ["saml", cutoff + 10_000],
      ["saml", cutoff - 10_000],
    ]);
  });

  it("removes rollup hours older than RETENTION_STATS_DAYS, keeps events' counts while young", async () => {
    await storeAt(NOW - 401 * DAY_MS, [eventText()]);
    await storeAt(NOW - 399 * DAY_MS, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain({}, envWith({ RETENTION_EVENT_DAYS: "0" }));
    expect(report.steps.eventCounts).toBe(1);
    expect((await tableCounts()).event_counts).toBe(2);
  });

  it("a failing step is logged at error level and fails the run, after the other steps ran", async () => {
    await env.DB.prepare("INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES ('x', 'dst_a', 'r', 1, ?1)").bind(OLD).run();
    const broken = { name: "broken", purge: async () => Promise.reject(new Error("boom")) };
    const { deadLetterRetention } = await import("../../src/storage/retention");
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await expect(
      runRetention(env as unknown as Env, NOW, { steps: [{ step: broken, days: 1 }, { step: deadLetterRetention, days: 30 }] }),
    ).rejects.toThrow("boom");
    const lines = errors.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: "retention: step failed", step: "broken" }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: "retention", level: "error", deadLetters: 1 }));
  });
});

describe("the hourly cron runs retention; the five-minute cron does not", () => {
  async function scheduled(cron: string, scheduledTime: number) {
    const controller = createScheduledController({ cron, scheduledTime });
    const ctx = createExecutionContext();
    const logs = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const warns = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await worker.scheduled(controller, env as unknown as Env, ctx);
      await waitOnExecutionContext(ctx);
      return logs.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    } finally {
      logs.mockRestore();
      warns.mockRestore();
    }
  }

  it(`"${RETENTION_CRON}" purges old events; "*/5 * * * *" sweeps and purges nothing`, async () => {
    await storeAt(OLD, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const sweep = await scheduled("*/5 * * * *", NOW);
    expect(sweep.some((l) => l.msg === "retention")).toBe(false);
    expect((await tableCounts()).events).toBe(2);
    const hourly = await scheduled(RETENTION_CRON, NOW);
    expect(hourly).toContainEqual(expect.objectContaining({ msg: "retention", events: 1 }));
    expect(hourly).toContainEqual(expect.objectContaining({ msg: "scheduled", cron: RETENTION_CRON, d1RowsWritten: expect.any(Number) }));
    expect((await tableCounts()).events).toBe(1);
  });
});

/** `db`, reporting the characters of payload hex (`data_hex`) each `.all()` read returned. */
function hexMeasured(db: D1Database, report: (chars: number) => void): D1Database {
  return readsMeasured<{ data_hex?: string }>(
    db,
    (rows) => (rows.some((row) => row.data_hex !== undefined) ? rows.reduce((n, row) => n + (row.data_hex?.length ?? 0), 0) : undefined),
    report,
  );
}
