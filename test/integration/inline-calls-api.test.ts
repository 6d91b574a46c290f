/**
 * GET /admin/api/inline-calls against local D1: real inline hook calls (Okta's token and registration examples,
 * decided by a rule, the default and a failing handler) found by every filter; a seeded audit of 170 rows followed
 * page by page to the end for each filter, matching a brute-force selection exactly, newest first, no call twice,
 * while no page reads more than its bound of D1 rows (the log line's d1RowsRead); a rare match answered with short
 * pages and a cursor rather than a longer read; the security group and bad queries (400 invalid_query naming the
 * parameter, nothing changed).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SEARCH_ROUNDS } from "../../src/http/admin/inline-calls";
import { MAX_QUERY_CHARS } from "../../src/http/validated-query";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../src/okta/inline/common";
import { insertInlineCallBatch, MAX_BATCH_ROWS_PER_PAGE, type InlineCallRecord } from "../../src/storage/inline-calls";
import { requestLines, rng } from "../helpers/events";
import { fixture } from "../helpers/fixtures";
import { request } from "../helpers/gateway";
import { admin, postInline, ssrRequest } from "../helpers/inline";
import { failingDatabase } from "../helpers/worker";

const LONG = { timeout: 60_000 };
type Json = Record<string, any>;
interface Page {
  calls: Json[];
  nextCursor: string | null;
}

async function searchPage(query: Record<string, string>) {
  const params = new URLSearchParams(query);
  const { result, lines } = await requestLines(() => request(`/admin/api/inline-calls?${params}`, { as: "admin" }));
  expect(result.status, await result.clone().text()).toBe(200);
  return { page: (await result.json()) as Page, rowsRead: Number(lines[0]?.d1RowsRead ?? NaN) };
}

/** Every page of a search, to the end (bounded), with the most D1 rows one page read. */
async function searchAll(query: Record<string, string>) {
  const calls: Json[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  let maxRowsRead = 0;
  do {
    const { page, rowsRead } = await searchPage({ ...query, ...(cursor ? { cursor } : {}) });
    calls.push(...page.calls);
    sizes.push(page.calls.length);
    maxRowsRead = Math.max(maxRowsRead, rowsRead);
    cursor = page.nextCursor;
    expect(sizes.length, "pages followed").toBeLessThan(300);
  } while (cursor);
  return { calls, sizes, maxRowsRead };
}

async function bad(query: string) {
  const res = await request(`/admin/api/inline-calls?${query}`, { as: "admin" });
  expect(res.status, query).toBe(400);
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

const auditRows = async () => (await env.DB.prepare("SELECT count(*) AS n, coalesce(max(id), 0) AS last FROM inline_call_batches").first<{ n: number; last: number }>())!;

// ---- real calls -------------------------------------------------------------------------------------------------

describe("real inline hook calls, found by every filter", () => {
  const vars = { INLINE_AUDIT_FLUSH_MS: "0", INLINE_RULES_CACHE_TTL_SECONDS: "0" };
  let since = "";
  let ruleId = "";

  beforeAll(async () => {
    since = new Date(Date.now() - 1000).toISOString();
    const rule = await admin("POST", "/rules", {
      kind: "registration.email-domain",
      definition: { deny: ["mailinator.com"], errorSummary: "Registration refused.", fieldMessage: "Disposable addresses are not accepted." },
    });
    expect(rule.status).toBe(201);
    ruleId = ((await rule.json()) as { id: string }).id;
    const failing = { token: async () => Promise.reject(new Error("directory unreachable")) };
    const answers = [
      await postInline("registration", ssrRequest({ email: "a@mailinator.com" }), { vars, headers: { "x-okta-request-id": "real-deny-1" } }),
      await postInline("registration", ssrRequest({ email: "b@mailinator.com" }), { vars, headers: { "x-okta-request-id": "real-deny-2" } }),
      await postInline("registration", ssrRequest({ email: "c@example.com" }), { vars, headers: { "x-okta-request-id": "real-allow" } }),
      await postInline("token", fixture("token-hook.request.json"), { vars, headers: { "x-okta-request-id": "real-token" } }),
      await postInline("token", fixture("token-hook.request.json"), { vars, handlers: failing, headers: { "x-okta-request-id": "real-fallback" } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 204, 204, 204]);
  }, LONG.timeout);

  const ids = (page: Page) => page.calls.map((c) => c.oktaRequestId);

  it("lists them newest first, each with its decision, who decided and why it fell back — and no value of the request", async () => {
    const { page } = await searchPage({ since });
    expect(ids(page)).toEqual(["real-fallback", "real-token", "real-allow", "real-deny-2", "real-deny-1"]);
    expect(page.nextCursor).toBeNull();
    const [fallback, , allow, deny] = page.calls as [Json, Json, Json, Json, Json];
    expect(deny).toMatchObject({ type: "registration", decision: "DENY", decidedBy: `rules:${ruleId}`, fallbackReason: null, status: 200 });
    expect(deny.commands).toEqual(["com.okta.action.update DENY"]);
    expect(allow).toMatchObject({ type: "registration", decision: "empty", decidedBy: "default", status: 204, commands: [] });
    expect(fallback).toMatchObject({ type: "token", decision: "empty", decidedBy: "fallback", fallbackReason: "handler_error", status: 204 });
    expect(Date.parse(fallback.receivedAt)).toBeGreaterThanOrEqual(Date.parse(since));
    expect(fallback.latencyMs).toBeGreaterThanOrEqual(0);
    // The shape of the decision only: the submitted email never reaches the audit, nor the handler's error.
    expect(JSON.stringify(page)).not.toMatch(/mailinator|example\.com|directory unreachable/);
  });

  it.each([
    [{ type: "token" }, ["real-fallback", "real-token"]],
    [{ type: "registration", decision: "deny" }, ["real-deny-2", "real-deny-1"]],
    [{ decision: "DENY" }, ["real-deny-2", "real-deny-1"]],
    [{ decidedBy: "rules:*" }, ["real-deny-2", "real-deny-1"]],
    [{ decidedBy: "rules:" }, ["real-deny-2", "real-deny-1"]],
    [{ decidedBy: "default" }, ["real-token", "real-allow"]],
    [{ decidedBy: "fallback" }, ["real-fallback"]],
    [{ decidedBy: "fall" }, []],
    [{ fallbackReason: "handler_error" }, ["real-fallback"]],
    [{ fallbackReason: "deadline" }, []],
    [{ type: "telephony" }, []],
  ] as Array<[Record<string, string>, string[]]>)("%j", async (filter, want) => {
    const { calls } = await searchAll({ since, ...filter });
    expect(calls.map((c) => c.oktaRequestId)).toEqual(want);
  });

  it("ruleId in decidedBy exactly", async () => {
    const { calls } = await searchAll({ since, decidedBy: `rules:${ruleId}` });
    expect(calls.map((c) => c.oktaRequestId)).toEqual(["real-deny-2", "real-deny-1"]);
  });

  it("until before them finds none of them", async () => {
    const { calls } = await searchAll({ since: new Date(Date.parse(since) - 60_000).toISOString(), until: since });
    expect(calls).toEqual([]);
  });
});

// ---- a seeded audit: paging and bounds ---------------------------------------------------------------------------

const T0 = Date.UTC(2026, 0, 10, 8, 0, 0);
const T_END = T0 + 200 * 1000;
const DECIDERS: Array<Pick<InlineCallRecord, "decision" | "decidedBy" | "fallbackReason" | "status">> = [
  { decision: "empty", decidedBy: "default", fallbackReason: null, status: 204 },
  { decision: "patch", decidedBy: "handler", fallbackReason: null, status: 200 },
  { decision: "DENY", decidedBy: "rules:r1", fallbackReason: null, status: 200 },
  { decision: "DENY", decidedBy: "rules:r1,r2", fallbackReason: null, status: 200 },
  { decision: "error", decidedBy: "fallback", fallbackReason: "deadline", status: 200 },
  { decision: "empty", decidedBy: "fallback", fallbackReason: "handler_error", status: 204 },
  { decision: "patch", decidedBy: "repeat:handler", fallbackReason: null, status: 200 },
];
const seeded: InlineCallRecord[] = [];
/** The one call with this fallback reason, in the oldest token row. */
const RARE = "response_too_large";

beforeAll(async () => {
  const random = rng(12);
  // 170 rows that never overlap in time (row k: T0 + k s, its calls 10 ms apart), so "newest first" is by time.
  for (let k = 0; k < 170; k++) {
    const type: InlineHookType = k % 17 === 5 ? "telephony" : k % 4 === 1 ? "registration" : "token";
    const count = 1 + Math.floor(random() * 8);
    const calls = Array.from({ length: count }, (_, i): InlineCallRecord => {
      const decider = k === 0 && i === 0 ? { decision: "empty", decidedBy: "fallback", fallbackReason: RARE, status: 204 } : DECIDERS[Math.floor(random() * DECIDERS.length)]!;
      return {
        hookType: type,
        requestType: null,
        oktaRequestId: `seed-${k}-${i}`,
        eventId: null,
        commands: [],
        latencyMs: 1 + Math.floor(random() * 900),
        receivedAt: T0 + k * 1000 + i * 10,
        ...decider,
      };
    });
    seeded.push(...calls);
    await insertInlineCallBatch(env.DB, type, calls);
  }
}, LONG.timeout);

const window = { since: new Date(T0).toISOString(), until: new Date(T_END).toISOString() };

function expected(f: { type?: string; decision?: string; decidedBy?: string; fallbackReason?: string; since?: string; until?: string }): string[] {
  return seeded
    .filter((c) => {
      if (f.type && c.hookType !== f.type) return false;
      if (f.decision && c.decision.toLowerCase() !== f.decision.toLowerCase()) return false;
      if (f.decidedBy) {
        const prefix = f.decidedBy.endsWith("*") ? f.decidedBy.slice(0, -1) : f.decidedBy.endsWith(":") ? f.decidedBy : null;
        if (prefix !== null ? !c.decidedBy.startsWith(prefix) : c.decidedBy !== f.decidedBy) return false;
      }
      if (f.fallbackReason && c.fallbackReason !== f.fallbackReason) return false;
      if (f.since && c.receivedAt < Date.parse(f.since)) return false;
      if (f.until && c.receivedAt >= Date.parse(f.until)) return false;
      return true;
    })
    .sort((a, b) => b.receivedAt - a.receivedAt)
    .map((c) => c.oktaRequestId!);
}

/** Audit rows a page may read: SEARCH_ROUNDS reads of at most 20 rows (one more each across the types' merge), per type asked. */
const rowBound = (types: number) => SEARCH_ROUNDS * (MAX_BATCH_ROWS_PER_PAGE + 1) * types;

describe("a seeded audit, followed page by page to the end", LONG, () => {
  it.each([
    ["everything in the window", {}],
    ["one type", { type: "token" }],
    ["one type, small pages", { type: "registration", limit: "3" }],
    ["a decision, case-insensitive", { decision: "deny" }],
    ["decided by a rule (a prefix)", { decidedBy: "rules:*" }],
    ["decided by one rule set exactly", { decidedBy: "rules:r1,r2", type: "token" }],
    ["the handler exactly (not its repeats)", { decidedBy: "handler" }],
    ["repeats (a prefix ending in :)", { decidedBy: "repeat:" }],
    ["a fallback reason", { fallbackReason: "deadline" }],
    ["every fallback", { decidedBy: "fallback", limit: "200" }],
    ["a narrower time range", { since: new Date(T0 + 40_500).toISOString(), until: new Date(T0 + 90_005).toISOString() }],
    ["a type with no calls", { type: "saml" }],
  ] as Array<[string, Record<string, string>]>)("%s", async (_name, filter) => {
    const query = { ...window, ...filter };
    const { calls, maxRowsRead } = await searchAll(query);
    const want = expected(query);
    expect(calls.map((c) => c.oktaRequestId)).toEqual(want);
    expect(new Set(want).size).toBe(want.length);
    expect(maxRowsRead, "D1 rows read by the costliest page").toBeLessThanOrEqual(rowBound(filter.type ? 1 : INLINE_HOOK_TYPES.length));
    expect(maxRowsRead).toBeLessThan(1000);
  });

  it("fills a page of 50 in one read when the rows hold enough calls, and reads no more than it needs", async () => {
    const { page, rowsRead } = await searchPage({ ...window, type: "token" });
    expect(page.calls.map((c) => c.oktaRequestId)).toEqual(expected({ ...window, type: "token" }).slice(0, 50));
    expect(page.nextCursor).not.toBeNull();
    expect(rowsRead).toBeLessThanOrEqual(rowBound(1));
    expect(rowsRead).toBeGreaterThan(0);
  });

  it("a rare match answers short pages with a cursor instead of reading on, and is found by following it", async () => {
    const query = { ...window, fallbackReason: RARE };
    const first = await searchPage(query);
    expect(first.page.calls).toEqual([]);
    expect(first.page.nextCursor).not.toBeNull();
    expect(first.rowsRead).toBeLessThanOrEqual(rowBound(INLINE_HOOK_TYPES.length));
    const { calls, sizes } = await searchAll(query);
    expect(calls.map((c) => c.oktaRequestId)).toEqual(["seed-0-0"]);
    expect(sizes.length).toBeGreaterThan(1);
  });

  it("pages stay correct while calls arrive: a newer row never shifts, repeats or hides one", async () => {
    const query = { ...window, type: "registration", limit: "4" };
    const first = await searchPage(query);
    // A row of calls newer than everything read so far, inside the window.
    const late: InlineCallRecord = { ...seeded.find((c) => c.hookType === "registration")!, oktaRequestId: "late", receivedAt: T_END - 1 };
    await insertInlineCallBatch(env.DB, "registration", [late]);
    try {
      const rest = await searchAll({ ...query, cursor: first.page.nextCursor! });
      expect([...first.page.calls, ...rest.calls].map((c) => c.oktaRequestId)).toEqual(expected(query));
    } finally {
      await env.DB.prepare("DELETE FROM inline_call_batches WHERE hook_type = 'registration' AND last_received_at = ?1").bind(T_END - 1).run();
    }
  });
});

// ---- security and bad input ---------------------------------------------------------------------------------------

describe("security and bad input", () => {
  it("refuses a caller without a token, with a wrong one, or with Okta's secret (401), and answers 503 with no ADMIN_TOKEN", async () => {
    for (const res of [
      await request("/admin/api/inline-calls"),
      await request("/admin/api/inline-calls", { headers: { authorization: "Bearer wrong-token" } }),
      await request("/admin/api/inline-calls", { as: "inline" }),
      await request("/admin/api/inline-calls?type=token", { as: "okta" }),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Missing or invalid admin token." } });
    }
    const unset = await request("/admin/api/inline-calls", { as: "admin", env: { ADMIN_TOKEN: "" } });
    expect(unset.status).toBe(503);
    expect(((await unset.json()) as Json).error.code).toBe("not_configured");
  });

  it.each([
    ["colour=red", /colour/],
    ["type=tokens", /^type: must be one of token, registration/],
    ["type=", /^type: /],
    ["decision=DENY%20ALL", /^decision: must be a decision/],
    ["decision=" + "x".repeat(65), /^decision: /],
    ["decidedBy=rules%3A%3Cscript%3E", /^decidedBy: must be a decidedBy value/],
    ["decidedBy=*", /^decidedBy: /],
    ["fallbackReason=timeout", /^fallbackReason: must be one of deadline, handler_error/],
    ["since=yesterday", /^since: must be an ISO 8601 date-time/],
    ["until=2026-13-45T00:00:00Z", /^until: /],
    ["since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", /^until: must be after since/],
    ["limit=0", /^limit: must be an integer from 1 to 200/],
    ["limit=201", /^limit: must be an integer from 1 to 200/],
    ["limit=ten", /^limit: /],
    ["cursor=x", /^cursor: must be a nextCursor value/],
    ["cursor=1.2", /^cursor: must be a nextCursor value/],
    ["type=token&type=saml", /^type: is given more than once/],
    [`decision=${"a".repeat(MAX_QUERY_CHARS)}`, /longer than 4096/],
  ])("%s is a 400 invalid_query naming the parameter, and changes nothing", async (query, message) => {
    const before = await auditRows();
    const error = await bad(query);
    expect(error.code).toBe("invalid_query");
    expect(error.message).toMatch(message);
    expect(await auditRows()).toEqual(before);
  });

  it("a body is not read, other methods are not routes, and a failing D1 is a 503 — never a 500", async () => {
    const withBody = await request("/admin/api/inline-calls?type=token&limit=1", { as: "admin", method: "GET", headers: { "content-type": "application/json" } });
    expect(withBody.status).toBe(200);
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await request("/admin/api/inline-calls", { as: "admin", method, body: "{not json" + "x".repeat(70_000) });
      expect(res.status, method).toBeGreaterThanOrEqual(400);
      expect(res.status, method).toBeLessThan(500);
    }
    const down = await request("/admin/api/inline-calls", { as: "admin", env: { DB: failingDatabase() } });
    expect(down.status).toBe(503);
    expect(((await down.json()) as Json).error.code).toBe("storage_unavailable");
  });
});
