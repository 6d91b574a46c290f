/**
 * GET /admin/api/stats/inline against local D1: figures of real inline hook calls (Okta's token and registration
 * examples, decided by a rule, the default, a failing handler and one past the deadline) exactly as the calls
 * happened; percentiles of known latencies; a window holding more audit rows than are read says so and reads no
 * more (the log line's d1RowsRead); the security group and bad queries (400 bad_request naming the parameter).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../src/okta/inline/common";
import { insertInlineCallBatch, type InlineCallRecord } from "../../src/storage/inline-calls";
import { nearestRank, STATS_ROWS_PER_TYPE } from "../../src/storage/stats-inline";
import { requestLines } from "../helpers/events";
import { fixture } from "../helpers/fixtures";
import { request, type Caller } from "../helpers/gateway";
import { admin, postInline, ssrRequest } from "../helpers/inline";
import { failingDatabase } from "../helpers/worker";

type Json = Record<string, any>;
const iso = (ms: number) => new Date(ms).toISOString();

async function get(path: string, as: Caller = "admin") {
  const { result, lines } = await requestLines(() => request(`/admin/api/stats/inline${path}`, { as }));
  return { res: result, body: (await result.json()) as Json, rowsRead: Number(lines[0]?.d1RowsRead ?? NaN) };
}

function call(hookType: InlineHookType, receivedAt: number, extra: Partial<InlineCallRecord> = {}): InlineCallRecord {
  return {
    hookType,
    requestType: null,
    oktaRequestId: null,
    eventId: null,
    decision: "empty",
    decidedBy: "default",
    fallbackReason: null,
    commands: [],
    status: 204,
    latencyMs: 5,
    receivedAt,
    ...extra,
  };
}

describe("figures of real calls", () => {
  const vars = { INLINE_AUDIT_FLUSH_MS: "0", INLINE_RULES_CACHE_TTL_SECONDS: "0" };
  let start = 0;

  beforeAll(async () => {
    start = Date.now() - 1000;
    const rule = await admin("POST", "/rules", {
      kind: "registration.email-domain",
      definition: { deny: ["mailinator.com"], errorSummary: "Registration refused.", fieldMessage: "Disposable addresses are not accepted." },
    });
    expect(rule.status).toBe(201);
    const failing = { token: async () => Promise.reject(new Error("directory unreachable")) };
    const late = {
      token: (_request: unknown, context: { signal: AbortSignal }) =>
        new Promise<undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), 2000);
          context.signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)));
        }),
    };
    const answers = [
      await postInline("registration", ssrRequest({ email: "a@mailinator.com" }), { vars }),
      await postInline("registration", ssrRequest({ email: "b@mailinator.com" }), { vars }),
      await postInline("registration", ssrRequest({ email: "c@example.com" }), { vars }),
      await postInline("token", fixture("token-hook.request.json"), { vars }),
      await postInline("token", fixture("token-hook.request.json"), { vars, handlers: failing }),
      await postInline("token", fixture("token-hook.request.json"), { vars, handlers: failing }),
      await postInline("token", fixture("token-hook.request.json"), { vars: { ...vars, INLINE_HOOK_DEADLINE_MS: "100" }, handlers: late as never }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 204, 204, 204, 204, 204]);
  }, 30_000);

  it("counts decisions, decided-by groups and fallbacks per type over the last 24 hours, every type listed", async () => {
    const { res, body } = await get("");
    expect(res.status).toBe(200);
    expect(Date.parse(body.until) - Date.parse(body.since)).toBe(24 * 3_600_000);
    expect(body.types.map((t: Json) => t.type)).toEqual(INLINE_HOOK_TYPES);
    const byType = Object.fromEntries(body.types.map((t: Json) => [t.type, t]));
    expect(byType.registration).toMatchObject({
      calls: 3,
      complete: true,
      decisions: [
        { decision: "DENY", count: 2 },
        { decision: "empty", count: 1 },
      ],
      decidedBy: [
        { group: "rules", count: 2 },
        { group: "default", count: 1 },
      ],
      fallbacks: [],
    });
    expect(byType.token).toMatchObject({
      calls: 4,
      complete: true,
      decisions: [{ decision: "empty", count: 4 }],
      decidedBy: [
        { group: "fallback", count: 3 },
        { group: "default", count: 1 },
      ],
      fallbacks: [
        { reason: "handler_error", count: 2 },
        { reason: "deadline", count: 1 },
      ],
    });
    expect(Date.parse(byType.token.oldestCall)).toBeGreaterThanOrEqual(start);
    // The percentiles are those of the calls' own latencies, as the search shows them.
    const search = (await (await request("/admin/api/inline-calls?type=token", { as: "admin" })).json()) as { calls: Array<{ latencyMs: number }> };
    expect(byType.token.latencyMs).toEqual(nearestRank(search.calls.map((c) => c.latencyMs)));
    expect(byType.token.latencyMs.sample).toBe(4);
    // The late call waited for the 100 ms deadline: the slowest, so p99.
    expect(byType.token.latencyMs.p99).toBeGreaterThanOrEqual(90);
    for (const type of ["password-import", "saml", "user-import", "telephony"]) {
      expect(byType[type]).toEqual({ type, calls: 0, complete: true, oldestCall: null, decisions: [], decidedBy: [], fallbacks: [], latencyMs: null });
    }
  });

  it("narrows to one type, and a window before the calls has none", async () => {
    const one = await get("?type=registration");
    expect(one.body.types.map((t: Json) => [t.type, t.calls])).toEqual([["registration", 3]]);
    const before = await get(`?since=${iso(start - 3_600_000)}&until=${iso(start)}`);
    expect(before.body.types.every((t: Json) => t.calls === 0)).toBe(true);
  });
});

describe("seeded audits", () => {
  const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

  it("nearest-rank p50/p95/p99 of latencies 1–100 ms are 50, 95 and 99, over 100 calls; calls outside the window are not counted", async () => {
    const latencies = Array.from({ length: 100 }, (_, i) => 100 - i);
    await insertInlineCallBatch(env.DB, "user-import", latencies.map((latencyMs, i) => call("user-import", T0 + i * 100, { latencyMs })));
    // Just outside, on both sides, in rows of their own.
    await insertInlineCallBatch(env.DB, "user-import", [call("user-import", T0 - 1, { latencyMs: 5000 })]);
    await insertInlineCallBatch(env.DB, "user-import", [call("user-import", T0 + 60_000, { latencyMs: 5000 })]);
    const { body } = await get(`?type=user-import&since=${iso(T0)}&until=${iso(T0 + 60_000)}`);
    expect(body.types[0]).toMatchObject({ calls: 100, complete: true, oldestCall: iso(T0), latencyMs: { p50: 50, p95: 95, p99: 99, sample: 100 } });
  });

  it(`a window with more than ${STATS_ROWS_PER_TYPE} rows of a type counts its newest ${STATS_ROWS_PER_TYPE}, says so, and reads no more`, async () => {
    const T1 = T0 + 3_600_000;
    const rows = STATS_ROWS_PER_TYPE + 20;
    for (let k = 0; k < rows; k++) {
      const calls = [call("saml", T1 + k * 1000, { decision: k % 2 ? "patch" : "empty" }), call("saml", T1 + k * 1000 + 1, { decidedBy: "handler" })];
      await insertInlineCallBatch(env.DB, "saml", calls);
    }
    const window = `since=${iso(T1)}&until=${iso(T1 + 3_600_000)}`;
    const { body, rowsRead } = await get(`?type=saml&${window}`);
    const newestKept = rows - STATS_ROWS_PER_TYPE;
    expect(body.types[0]).toMatchObject({
      type: "saml",
      calls: 2 * STATS_ROWS_PER_TYPE,
      complete: false,
      oldestCall: iso(T1 + newestKept * 1000),
      decidedBy: [
        { group: "default", count: STATS_ROWS_PER_TYPE },
        { group: "handler", count: STATS_ROWS_PER_TYPE },
      ],
    });
    expect(rowsRead).toBeLessThanOrEqual(STATS_ROWS_PER_TYPE + 1);
    // Over every type: still at most STATS_ROWS_PER_TYPE + 1 rows per type.
    const all = await get(`?${window}`);
    expect(all.body.types.find((t: Json) => t.type === "saml").complete).toBe(false);
    expect(all.rowsRead).toBeLessThanOrEqual(INLINE_HOOK_TYPES.length * (STATS_ROWS_PER_TYPE + 1));
    // A narrower window inside it is read whole.
    const narrow = await get(`?type=saml&since=${iso(T1)}&until=${iso(T1 + 10_000)}`);
    expect(narrow.body.types[0]).toMatchObject({ calls: 20, complete: true });
    // Its 10 rows, and those ending up to a row's longest span (60 s) after `until`, which may hold earlier calls.
    expect(narrow.rowsRead).toBeLessThanOrEqual(10 + 60 + 1);
  });
});

describe("security and bad input", () => {
  it("refuses a caller without a token, with a wrong one, or with a hook's secret (401), and answers 503 without ADMIN_TOKEN", async () => {
    for (const res of [
      await request("/admin/api/stats/inline"),
      await request("/admin/api/stats/inline", { headers: { authorization: "Bearer wrong-token" } }),
      await request("/admin/api/stats/inline", { as: "inline" }),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Missing or invalid admin token." } });
    }
    const unset = await request("/admin/api/stats/inline", { as: "admin", env: { ADMIN_TOKEN: "" } });
    expect(unset.status).toBe(503);
    expect(((await unset.json()) as Json).error.code).toBe("not_configured");
  });

  it.each([
    ["sinse=2026-11-01T00:00:00Z", "sinse: is not a parameter of this route"],
    ["__proto__=token", "__proto__: is not a parameter of this route"],
    ["type=token&type=saml", "type: must be given once"],
    ["type=tokens", /^type: must be one of token, registration/],
    ["since=yesterday", /^since: must be an ISO 8601 date-time/],
    ["until=2026-12-01", /^until: must be an ISO 8601 date-time/],
    ["since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", "until: must be later than since"],
    ["since=2026-11-01T00:00:00Z&until=2026-11-09T00:00:00Z", "since: the window is longer than 7 days"],
    [`until=${iso(Date.UTC(2026, 0, 1))}&since=2025-01-01T00:00:00Z`, "since: the window is longer than 7 days"],
    ["since=2999-01-01T00:00:00Z", "since: must be earlier than until (by default, now)"],
  ])("%s is a 400 bad_request naming the parameter", async (query, message) => {
    const { res, body } = await get(`?${query}`);
    expect(res.status).toBe(400);
    expect(body.error.code).toBe("bad_request");
    if (typeof message === "string") expect(body.error.message).toBe(message);
    else expect(body.error.message).toMatch(message);
  });

  it("answers 503 storage_unavailable when D1 is down, never 500; other methods are not routes", async () => {
    const res = await request("/admin/api/stats/inline", { as: "admin", env: { DB: failingDatabase() } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).error.code).toBe("storage_unavailable");
    const post = await request("/admin/api/stats/inline", { as: "admin", method: "POST", body: { since: "x" } });
    expect(post.status).toBe(404);
  });
});
