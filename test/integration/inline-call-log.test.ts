/**
 * The inline hook audit log in D1 (src/storage/inline-calls.ts, migrations/0005_inline_call_batches.sql): calls
 * written many to a row, read back newest first by type and time a bounded page at a time, and the rows of the old
 * one-row-per-call table moved over by the migration.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../src/okta/inline/common";
import { meteredDatabase, newUsage } from "../../src/storage/d1";
import {
  MAX_BATCH_ROWS_PER_PAGE,
  MAX_BATCH_SPAN_MS,
  decodeInlineCallCursor,
  encodeInlineCallCursor,
  insertInlineCallBatch,
  listInlineCalls,
  splitBySpan,
  type InlineCallQuery,
  type InlineCallRecord,
} from "../../src/storage/inline-calls";

// Each describe block writes its calls in its own stretch of time, far from the others (storage is per file).
const HOUR = 3_600_000;

function call(hookType: InlineHookType, receivedAt: number, extra: Partial<InlineCallRecord> = {}): InlineCallRecord {
  return {
    hookType,
    requestType: null,
    oktaRequestId: `req-${hookType}-${receivedAt}`,
    eventId: null,
    decision: "empty",
    decidedBy: "default",
    fallbackReason: null,
    commands: [],
    status: 204,
    latencyMs: 3,
    receivedAt,
    ...extra,
  };
}

/** Every page of `query`, followed to the end (bounded: fails rather than loop forever). */
async function everyPage(db: D1Database, query: InlineCallQuery): Promise<{ calls: InlineCallRecord[]; pages: number }> {
  const calls: InlineCallRecord[] = [];
  let cursor = query.cursor;
  for (let pages = 1; pages <= 500; pages++) {
    const page = await listInlineCalls(db, { ...query, cursor });
    calls.push(...page.calls);
    if (page.cursor === null) return { calls, pages };
    // The cursor survives being passed through an API as text.
    cursor = decodeInlineCallCursor(encodeInlineCallCursor(page.cursor))!;
    expect(cursor).toEqual(page.cursor);
  }
  throw new Error("paging did not end");
}

const byNewest = (a: InlineCallRecord, b: InlineCallRecord) => b.receivedAt - a.receivedAt;

describe("writing and reading calls", () => {
  const T0 = 10 * HOUR;

  it("round-trips every field of a call, and leaves null fields out of the stored JSON", async () => {
    const full = call("registration", T0 + 1, {
      requestType: "self.service.registration",
      eventId: "ev1",
      decision: "DENY",
      decidedBy: "rules:r1,r2",
      fallbackReason: "deadline",
      commands: ["com.okta.action.update DENY"],
      status: 200,
      latencyMs: 12,
    });
    const sparse = call("registration", T0 + 2, { oktaRequestId: null });
    await insertInlineCallBatch(env.DB, "registration", [full, sparse]);
    const page = await listInlineCalls(env.DB, { type: "registration", from: T0, to: T0 + 10, limit: 10 });
    expect(page).toEqual({ calls: [sparse, full], cursor: null });
    const row = await env.DB.prepare("SELECT * FROM inline_call_batches WHERE first_received_at = ?1").bind(T0 + 1).first<Record<string, unknown>>();
    expect(row).toMatchObject({ hook_type: "registration", first_received_at: T0 + 1, last_received_at: T0 + 2, call_count: 2 });
    expect(JSON.parse(row!.calls as string)[1]).toEqual({ receivedAt: T0 + 2, decision: "empty", decidedBy: "default", status: 204, latencyMs: 3 });
  });

  it("writes one row (two with its index entry) for a batch of 100 calls", async () => {
    const usage = newUsage();
    const calls = Array.from({ length: 100 }, (_, i) => call("token", T0 + 100 + i));
    await insertInlineCallBatch(meteredDatabase(env.DB, usage), "token", calls);
    expect(usage).toMatchObject({ queries: 1, rowsWritten: 2 });
  });

  it("cuts a batch spanning over MAX_BATCH_SPAN_MS into rows that do not", () => {
    const calls = [call("saml", 0), call("saml", MAX_BATCH_SPAN_MS), call("saml", MAX_BATCH_SPAN_MS + 1), call("saml", 5)];
    expect(splitBySpan(calls).map((run) => run.map((c) => c.receivedAt))).toEqual([[0, 5, MAX_BATCH_SPAN_MS], [MAX_BATCH_SPAN_MS + 1]]);
  });
});

describe("listInlineCalls", () => {
  const T0 = 20 * HOUR;
  // 30 rows of token calls (10 each) and 3 rows of telephony calls, interleaved in time.
  const token: InlineCallRecord[] = [];
  const telephony: InlineCallRecord[] = [];
  const seeded = (async () => {
    for (let row = 0; row < 30; row++) {
      const calls = Array.from({ length: 10 }, (_, i) => call("token", T0 + row * 1000 + i * 10));
      token.push(...calls);
      await insertInlineCallBatch(env.DB, "token", calls);
      if (row % 10 === 5) {
        const tel = [call("telephony", T0 + row * 1000 + 5, { decision: "FAILED", status: 200 })];
        telephony.push(...tel);
        await insertInlineCallBatch(env.DB, "telephony", tel);
      }
    }
  })();
  const window = { from: T0, to: T0 + 60_000 };

  it("pages through one type newest first, each call once, with a cursor that ends", async () => {
    await seeded;
    const { calls, pages } = await everyPage(env.DB, { type: "token", ...window, limit: 7 });
    expect(calls).toEqual([...token].sort(byNewest));
    expect(pages).toBe(Math.ceil(300 / 7));
  });

  it("pages through every type merged, newest first by row: each call once, out of order by at most a row's span", async () => {
    await seeded;
    const { calls } = await everyPage(env.DB, { ...window, limit: 25 });
    expect([...calls].sort(byNewest)).toEqual([...token, ...telephony].sort(byNewest));
    // The telephony call at +5,005 ms comes after the token row it falls in (+5,000 … +5,090), not inside it.
    const at = calls.map((c) => c.receivedAt - T0);
    expect(at.slice(at.indexOf(5_090), at.indexOf(5_090) + 12)).toEqual([5_090, 5_080, 5_070, 5_060, 5_050, 5_040, 5_030, 5_020, 5_010, 5_000, 5_005, 4_090]);
    let newest = Infinity;
    for (const c of calls) {
      expect(c.receivedAt).toBeLessThanOrEqual(newest + 90);
      newest = Math.min(newest, c.receivedAt);
    }
  });

  it("narrows by time: from inclusive, to exclusive, also inside a row", async () => {
    await seeded;
    const from = T0 + 2_050;
    const to = T0 + 4_030;
    const { calls } = await everyPage(env.DB, { type: "token", from, to, limit: 100 });
    expect(calls).toEqual(token.filter((c) => c.receivedAt >= from && c.receivedAt < to).sort(byNewest));
    expect(calls.at(0)?.receivedAt).toBe(T0 + 4_020);
    expect(calls.at(-1)?.receivedAt).toBe(T0 + 2_050);
  });

  it("narrows by type: a rare type is found without reading the frequent one's rows", async () => {
    await seeded;
    const usage = newUsage();
    const page = await listInlineCalls(meteredDatabase(env.DB, usage), { type: "telephony", ...window, limit: 10 });
    expect(page).toEqual({ calls: [...telephony].sort(byNewest), cursor: null });
    expect(usage.rowsRead).toBeLessThanOrEqual(2 * telephony.length);
  });

  it("reads a bounded number of rows per page, however large the page asked for", async () => {
    await seeded;
    const usage = newUsage();
    const page = await listInlineCalls(meteredDatabase(env.DB, usage), { ...window, limit: 1000 });
    // One statement per type in one round trip, each reading at most MAX_BATCH_ROWS_PER_PAGE rows (plus the index
    // entries it walks).
    expect(usage.queries).toBe(INLINE_HOOK_TYPES.length);
    expect(usage.rowsRead).toBeLessThanOrEqual(INLINE_HOOK_TYPES.length * 2 * (MAX_BATCH_ROWS_PER_PAGE + 1));
    expect(page.calls.length).toBeLessThan(300);
    expect(page.cursor).not.toBeNull();
  });

  it("an old window reads only the rows near it, not every newer row", async () => {
    // 100 rows of one call, 10 s apart (T1 is away from the rows above).
    const T1 = 30 * HOUR;
    const rows = Array.from({ length: 100 }, (_, i) => call("saml", T1 + i * 10_000));
    for (const row of rows) await insertInlineCallBatch(env.DB, "saml", [row]);
    const usage = newUsage();
    const { calls } = await everyPage(meteredDatabase(env.DB, usage), { type: "saml", from: T1, to: T1 + 20_000, limit: 100 });
    expect(calls).toEqual([rows[1], rows[0]]);
    // Rows whose last call is up to MAX_BATCH_SPAN_MS after `to` may hold earlier calls and are read (index entry
    // and row each); nothing newer is.
    expect(usage.rowsRead).toBeLessThanOrEqual(2 * ((20_000 + MAX_BATCH_SPAN_MS) / 10_000 + 1));
  });

  it("an empty window is one empty page", async () => {
    await seeded;
    expect(await listInlineCalls(env.DB, { type: "saml", ...window, limit: 10 })).toEqual({ calls: [], cursor: null });
  });

  it("refuses a cursor it did not make", () => {
    for (const token of ["", "1.2", "a.b.c", "1.2.3.4", "-1.2.3", "99999999999999999.1.1", "1.2.1234567"]) {
      expect(decodeInlineCallCursor(token), token).toBeNull();
    }
    expect(decodeInlineCallCursor("1700000000000.42.7")).toEqual({ lastReceivedAt: 1700000000000, batchId: 42, taken: 7 });
  });
});

describe("retention of the audit (RETENTION_INLINE_CALL_DAYS)", () => {
  const T0 = 50 * HOUR;

  it("deletes the rows whose latest call is before the cutoff, reading them and not the young ones", async () => {
    for (let i = 0; i < 3; i++) await insertInlineCallBatch(env.DB, "user-import", [call("user-import", T0 + i)]);
    for (let i = 0; i < 40; i++) await insertInlineCallBatch(env.DB, "user-import", [call("user-import", T0 + HOUR + i)]);
    const { inlineCallRetention } = await import("../../src/storage/retention-inline-calls");
    // Everything before T0 + 1 h: the three rows above, and the older rows the blocks above wrote.
    const deleted = await inlineCallRetention.purge(env.DB, T0 + HOUR, 1000);
    expect(deleted).toBeGreaterThanOrEqual(3);
    const { calls } = await everyPage(env.DB, { type: "user-import", from: 0, to: T0 + 2 * HOUR, limit: 100 });
    expect(calls.map((c) => c.receivedAt)).toEqual(Array.from({ length: 40 }, (_, i) => T0 + HOUR + 39 - i));
    // Nothing left to purge: finding that out costs two rows read per type (the list of types, and the seek to the
    // end of the type's old range, as D1 counts them), not the 40 young rows.
    const usage = newUsage();
    expect(await inlineCallRetention.purge(meteredDatabase(env.DB, usage), T0 + HOUR, 1000)).toBe(0);
    expect(usage.rowsRead).toBeLessThanOrEqual(2 * INLINE_HOOK_TYPES.length + 1);
  });
});

describe("migration 0005 moves the rows of inline_hook_calls", () => {
  const T0 = 40 * HOUR;

  it("keeps every call readable, grouped by type and minute, at most 100 to a row", async () => {
    const migrations = env.TEST_MIGRATIONS;
    const oldTable = migrations.find((m) => m.name.startsWith("0003"))!.queries.find((q) => q.includes("CREATE TABLE inline_hook_calls"))!;
    const move = migrations.find((m) => m.name.startsWith("0005"))!.queries.filter((q) => /^\s*(INSERT|DROP)/m.test(q.replace(/^--.*$/gm, "")));
    expect(move).toHaveLength(2);
    await env.DB.prepare(oldTable).run();
    // 150 token calls within one minute, 3 registration calls minutes apart, in id order ≠ time order.
    const insert = env.DB.prepare(
      `INSERT INTO inline_hook_calls (hook_type, request_type, okta_request_id, event_id, decision, decided_by,
         fallback_reason, commands, status, latency_ms, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    );
    const legacy: InlineCallRecord[] = [
      ...Array.from({ length: 150 }, (_, i) => call("token", T0 + 59_000 - i * 10, { commands: ["com.okta.access.patch add /claims/x"], decision: "patch", status: 200 })),
      call("registration", T0 + 5 * 60_000, { requestType: "self.service.registration", eventId: "e1", fallbackReason: "deadline", decidedBy: "fallback" }),
      call("registration", T0 + 1 * 60_000, { oktaRequestId: null }),
      call("registration", T0 + 9 * 60_000),
    ];
    await env.DB.batch(
      legacy.map((c) =>
        insert.bind(c.hookType, c.requestType, c.oktaRequestId, c.eventId, c.decision, c.decidedBy, c.fallbackReason, JSON.stringify(c.commands), c.status, c.latencyMs, c.receivedAt),
      ),
    );
    for (const sql of move) await env.DB.prepare(sql).run();

    const { calls } = await everyPage(env.DB, { from: T0, to: T0 + HOUR, limit: 50 });
    expect(calls).toEqual([...legacy].sort(byNewest));
    const rows = await env.DB.prepare(
      "SELECT hook_type, call_count, first_received_at, last_received_at FROM inline_call_batches WHERE last_received_at >= ?1 AND last_received_at < ?2 ORDER BY id",
    )
      .bind(T0, T0 + HOUR)
      .all<{ hook_type: string; call_count: number; first_received_at: number; last_received_at: number }>();
    expect(rows.results.map((r) => [r.hook_type, r.call_count])).toEqual([
      ["token", 100],
      ["token", 50],
      ["registration", 1],
      ["registration", 1],
      ["registration", 1],
    ]);
    for (const r of rows.results) expect(r.last_received_at - r.first_received_at).toBeLessThanOrEqual(MAX_BATCH_SPAN_MS);
    expect(await env.DB.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'inline_hook_calls%'").all()).toMatchObject({ results: [] });
  });
});
