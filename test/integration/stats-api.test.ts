/**
 * GET /admin/api/stats, /stats/events and /stats/deliveries against local D1: the security group, bad queries
 * answered 400 naming the parameter, counts and percentiles checked against known inserts (duplicates included),
 * and what a stats query reads (D1's own rows_read, from the request's log line) not growing with the events.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_DAY_BUCKETS, MAX_HOUR_BUCKETS } from "../../src/http/admin/stats";
import { HOUR_MS } from "../../src/storage/stats-events";
import { clearForwarding, createDestination, fanOut, stubDestinations } from "../helpers/forwarding";
import { request, type Caller } from "../helpers/gateway";
import {
  clearEventStore,
  DAY_MS,
  eventText,
  giveBatchDelivery,
  storeAt,
  storedIds,
  tableCounts,
} from "../helpers/stored-events";
import { failingDatabase } from "../helpers/worker";

const H0 = Date.UTC(2026, 5, 30, 22, 0, 0); // an hour boundary, 2026-06-30T22:00Z, well before "now"
const iso = (ms: number) => new Date(ms).toISOString();

async function get(path: string, as: Caller = "admin", envOverrides = {}) {
  const res = await request(`/admin/api${path}`, { as, env: envOverrides });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** A stats request's log line (what D1 reported it cost). */
async function costOf(path: string): Promise<{ body: unknown; line: Record<string, unknown> }> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    const res = await request(`/admin/api${path}`, { as: "admin" });
    const body = await res.json();
    const line = spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "request")!;
    return { body, line };
  } finally {
    spy.mockRestore();
  }
}

beforeEach(async () => {
  await clearEventStore();
  await clearForwarding();
});
afterEach(() => vi.restoreAllMocks());

const ROUTES = ["/stats", "/stats/events", "/stats/deliveries"];

describe("security: every stats route", () => {
  it.each(ROUTES)("%s refuses a caller without a token (401) and with a wrong one (401)", async (route) => {
    for (const res of [
      await request(`/admin/api${route}`),
      await request(`/admin/api${route}`, { headers: { authorization: "Bearer wrong-token" } }),
      await request(`/admin/api${route}`, { as: "okta" }),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Missing or invalid admin token." } });
    }
  });

  it.each(ROUTES)("%s answers 503 not_configured when no admin token is set", async (route) => {
    const res = await request(`/admin/api${route}`, { as: "admin", env: { ADMIN_TOKEN: "" } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_configured");
  });

  it.each(ROUTES)("%s refuses an unknown parameter and a repeated one, naming it", async (route) => {
    const unknown = await get(`${route}?sinse=2026-11-01T00:00:00Z`);
    expect(unknown.res.status).toBe(400);
    expect(unknown.body).toEqual({ error: { code: "bad_request", message: "sinse: is not a parameter of this route" } });
    const twice = await get(`${route}?since=2026-11-01T00:00:00Z&since=2026-11-02T00:00:00Z`);
    expect(twice.res.status).toBe(400);
    expect(twice.body).toEqual({ error: { code: "bad_request", message: "since: must be given once" } });
  });

  it.each(ROUTES)("%s answers 503 storage_unavailable when D1 is down, never 500", async (route) => {
    const { res, body } = await get(route, "admin", { DB: failingDatabase() });
    expect(res.status).toBe(503);
    expect(body).toEqual({ error: { code: "storage_unavailable", message: "Storage is unavailable; try again." } });
  });

  it("bad values are a 400 naming the parameter, and change nothing", async () => {
    await storeAt(H0, [eventText()]);
    const before = await tableCounts();
    const cases: Array<[string, RegExp]> = [
      ["/stats/events?since=yesterday", /^since: must be an ISO 8601 date-time/],
      ["/stats/events?until=2026-13-01T00:00:00Z", /^until: must be an ISO 8601 date-time/],
      ["/stats/events?since=2026-11-01", /^since: must be an ISO 8601 date-time/],
      ["/stats/events?bucket=minute", /^bucket: must be "hour" or "day"/],
      ["/stats/events?type=user%20session", /^type: must be an event type or a prefix pattern/],
      ["/stats/events?type=*", /^type: must be an event type or a prefix pattern/],
      ["/stats/events?type=user.*.start", /^type: must be an event type or a prefix pattern/],
      [`/stats/events?type=${"a".repeat(10_000)}`, /^type: must be an event type or a prefix pattern/],
      ["/stats/events?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", /^until: must be later than since/],
      ["/stats/events?since=2026-11-01T00:00:00Z&until=2026-11-09T00:00:00Z", new RegExp(`^since: the range holds 192 hours; at most ${MAX_HOUR_BUCKETS}`)],
      ["/stats/events?bucket=day&since=2026-01-01T00:00:00Z&until=2026-12-01T00:00:00Z", new RegExp(`^since: the range holds 334 days; at most ${MAX_DAY_BUCKETS}`)],
      ["/stats/events?since=2999-01-01T00:00:00Z", /^since: must be earlier than until/],
      ["/stats/deliveries?destinationId=nope", /^destinationId: must be a destination id/],
      ["/stats/deliveries?since=2026-11-01T00:00:00Z&until=2026-11-09T00:00:00Z", /^since: the window is longer than 7 days/],
      ["/stats/deliveries?until=1700000000000", /^until: must be an ISO 8601 date-time/],
      ["/stats/deliveries?since=2999-01-01T00:00:00%2B02:00", /^since: must be earlier than until/],
    ];
    for (const [path, message] of cases) {
      const { res, body } = await get(path);
      expect(res.status, path).toBe(400);
      const error = (body as { error: { code: string; message: string } }).error;
      expect(error.code, path).toBe("bad_request");
      expect(error.message, path).toMatch(message);
      expect(error.message.length, path).toBeLessThan(300);
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("no query string answers 500: a seeded run of odd parameters gets 200 or a well-formed 400", async () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const pieces = ["since", "until", "bucket", "type", "destinationId", "%00", "%ZZ", "=", "&", "2026-11-01T00:00:00Z", "day", "user.*", "dst_", "[]", "%F0%9F%98%80", "-1", "1e400"];
    for (let i = 0; i < 150; i++) {
      const query = Array.from({ length: 1 + (next() % 5) }, () => pieces[next() % pieces.length]).join("");
      const route = ROUTES[next() % ROUTES.length]!;
      const res = await request(`/admin/api${route}?${query}`, { as: "admin" });
      expect([200, 400, 404], `${route}?${query}`).toContain(res.status);
      const body = (await res.json()) as { error?: { code: string; message: string } };
      if (res.status !== 200) expect(body.error?.message, `${route}?${query}`).toEqual(expect.any(String));
    }
  });
});

describe("GET /admin/api/stats/events: events received per hour or day and type", () => {
  it("counts what was stored per UTC hour and type; duplicates and redeliveries never count", async () => {
    const a = eventText({ eventType: "user.session.start" });
    await storeAt(H0 + 5 * 60_000, [a, eventText({ eventType: "user.session.start" }), eventText({ eventType: "user.lifecycle.create" }), a]);
    await storeAt(H0 + 50 * 60_000, [a]); // a redelivered event
    await storeAt(H0 + HOUR_MS, [eventText({ eventType: "user.session.start" }), eventText({ eventType: "user.session.end" })]);
    await storeAt(H0 + 3 * HOUR_MS, [eventText({ eventType: "user.session.start" })]); // outside the range asked

    const { res, body } = await get(`/stats/events?since=${iso(H0 + 10 * 60_000)}&until=${iso(H0 + 2 * HOUR_MS)}`);
    expect(res.status).toBe(200);
    expect(body).toEqual({
      bucket: "hour",
      since: iso(H0), // rounded down to its hour
      until: iso(H0 + 2 * HOUR_MS),
      type: null,
      total: 5,
      eventTypes: [
        { eventType: "user.session.start", count: 3 },
        { eventType: "user.lifecycle.create", count: 1 },
        { eventType: "user.session.end", count: 1 },
      ],
      buckets: [
        { start: iso(H0), total: 3, counts: [{ eventType: "user.lifecycle.create", count: 1 }, { eventType: "user.session.start", count: 2 }] },
        { start: iso(H0 + HOUR_MS), total: 2, counts: [{ eventType: "user.session.end", count: 1 }, { eventType: "user.session.start", count: 1 }] },
      ],
    });
  });

  it("sums UTC days, lists empty buckets, and filters by exact type or prefix", async () => {
    const day = Date.UTC(2026, 5, 28);
    await storeAt(day + 23 * HOUR_MS, [eventText({ eventType: "user.session.start" }), eventText({ eventType: "user.authentication.sso" })]);
    await storeAt(day + 24 * HOUR_MS, [eventText({ eventType: "user.session.start" })]);
    await storeAt(day + 2 * DAY_MS + 1, [eventText({ eventType: "user.session.end" }), eventText({ eventType: "policy.evaluate_sign_on" })]);
    const range = `since=${iso(day)}&until=${iso(day + 3 * DAY_MS)}`;

    const days = await get(`/stats/events?bucket=day&${range}`);
    expect(days.body.total).toBe(5);
    expect((days.body.buckets as Array<{ start: string; total: number }>).map((b) => [b.start, b.total])).toEqual([
      [iso(day), 2],
      [iso(day + DAY_MS), 1],
      [iso(day + 2 * DAY_MS), 2],
    ]);

    const prefix = await get(`/stats/events?bucket=day&${range}&type=user.session.*`);
    expect(prefix.body).toMatchObject({ type: "user.session.*", total: 3, eventTypes: [{ eventType: "user.session.start", count: 2 }, { eventType: "user.session.end", count: 1 }] });
    const exact = await get(`/stats/events?bucket=day&${range}&type=user.session.start`);
    expect(exact.body).toMatchObject({ total: 2, eventTypes: [{ eventType: "user.session.start", count: 2 }] });
    // A prefix matches at the dot only as written: "user.session.*" is not "user.sessionX".
    await storeAt(day + 1, [eventText({ eventType: "user.sessionX.start" })]);
    expect((await get(`/stats/events?bucket=day&${range}&type=user.session.*`)).body.total).toBe(3);

    const empty = await get(`/stats/events?since=${iso(day + 10 * HOUR_MS)}&until=${iso(day + 13 * HOUR_MS)}`);
    expect(empty.body).toMatchObject({ total: 0, eventTypes: [] });
    expect(empty.body.buckets).toEqual([0, 1, 2].map((h) => ({ start: iso(day + (10 + h) * HOUR_MS), total: 0, counts: [] })));
  });

  it("defaults to the last 24 hours, which include what arrived just now through the route", async () => {
    const { postOktaDelivery, oktaDelivery, envWith, recordingQueue } = await import("../helpers/forwarding");
    const { envelope } = oktaDelivery("user.session.start", [{}, {}]);
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    const { body } = await get("/stats/events");
    expect(body.buckets).toHaveLength(24);
    expect(body.total).toBe(2);
    expect(Date.parse(body.until as string)).toBeGreaterThan(Date.now());
  });

  it("reads the rollup, not the events: 600 more events in the range cost no more rows read", async () => {
    const range = `since=${iso(H0)}&until=${iso(H0 + 2 * HOUR_MS)}`;
    await storeAt(H0, [eventText({ eventType: "user.session.start" })]);
    const small = await costOf(`/stats/events?${range}`);
    for (let i = 0; i < 3; i++) await storeAt(H0 + i, Array.from({ length: 200 }, () => eventText({ eventType: "user.session.start" })));
    const large = await costOf(`/stats/events?${range}`);
    expect((large.body as { total: number }).total).toBe(601);
    expect(large.line.d1Queries).toBe(1);
    expect(large.line.d1RowsRead).toBe(small.line.d1RowsRead);
    expect(large.line.d1RowsRead as number).toBeLessThanOrEqual(5);
    // What counting by scanning the events instead would read: every event of the range, and growing with them.
    const scan = await env.DB.prepare("SELECT event_type, count(*) FROM events WHERE received_at >= ?1 AND received_at < ?2 GROUP BY event_type")
      .bind(H0, H0 + 2 * HOUR_MS)
      .all();
    expect(scan.meta.rows_read).toBeGreaterThanOrEqual(601);
  });
});

describe("GET /admin/api/stats/deliveries: per destination", () => {
  it("combines first-attempt successes and deliveries: delivered, dead, retrying, waiting, success rate, p50/p95", async () => {
    const a = await createDestination({ name: "siem" });
    const b = await createDestination({ name: "paused one" });
    const since = H0;
    const until = H0 + 2 * HOUR_MS;
    await storeAt(H0 + 60_000, Array.from({ length: 3 }, () => eventText()));
    const [batch] = [...new Set((await storedIds()).map((e) => e.batch_id!))];
    // First attempts that delivered, latencies 40, 10, 30; and a batch that arrived after the window (not counted).
    await giveBatchDelivery(batch!, a.id, [[1, 200, 40, H0 + 61_000], [2, 204, 10, H0 + 61_000], [3, 200, 30, H0 + 62_000]], H0 + 62_000);
    await storeAt(until + 1000, [eventText()]);
    await giveBatchDelivery(batch! + 1, a.id, [[4, 200, 20, until + 2000]], until + 2000);
    const insertDelivery = (uuid: string, destination: string, state: string, updatedAt: number, deliveredAt: number | null) =>
      env.DB.prepare(
        `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, created_at, updated_at, delivered_at)
         VALUES (?1, ?2, ?3, 2, ?4, ?4, ?5)`,
      ).bind(uuid, destination, state, updatedAt, deliveredAt);
    const attempt = (uuid: string, destination: string, n: number, latency: number, outcome: string) =>
      env.DB.prepare(
        `INSERT INTO delivery_attempts (event_uuid, destination_id, attempt, attempted_at, status, latency_ms, outcome, error)
         VALUES (?1, ?2, ?3, ?4, 200, ?5, ?6, NULL)`,
      ).bind(uuid, destination, n, H0, latency, outcome);
    await env.DB.batch([
      // a: a retried success (latency 500 on its second attempt), one dead in the window, one dead before it,
      // one retrying, one pending.
      insertDelivery("u-retried", a.id, "delivered", H0 + 90_000, H0 + 90_000),
      attempt("u-retried", a.id, 1, 3000, "retry"),
      attempt("u-retried", a.id, 2, 500, "delivered"),
      insertDelivery("u-dead", a.id, "dead", H0 + 95_000, null),
      insertDelivery("u-dead-before", a.id, "dead", H0 - 1, null),
      insertDelivery("u-failed", a.id, "failed", H0 + 99_000, null),
      insertDelivery("u-pending", a.id, "pending", H0 + 99_000, null),
      // b: waiting (paused), nothing delivered.
      insertDelivery("u-wait-1", b.id, "waiting", H0, null),
      insertDelivery("u-wait-2", b.id, "waiting", H0, null),
    ]);

    const { res, body } = await get(`/stats/deliveries?since=${iso(since)}&until=${iso(until)}`);
    expect(res.status).toBe(200);
    expect(body).toEqual({
      since: iso(since),
      until: iso(until),
      destinations: [
        {
          destinationId: a.id,
          destinationName: "siem",
          state: "active",
          delivered: 4,
          deliveredFirstAttempt: 3,
          deliveredAfterRetry: 1,
          dead: 1,
          retrying: 2,
          waiting: 0,
          successRate: 0.8,
          // Nearest rank over 10, 30, 40 and the retry's 500 (its failed first attempt is no success): 2nd and 4th.
          latencyMs: { p50: 30, p95: 500, sample: 4 },
        },
        {
          destinationId: b.id,
          destinationName: "paused one",
          state: "active",
          delivered: 0,
          deliveredFirstAttempt: 0,
          deliveredAfterRetry: 0,
          dead: 0,
          retrying: 0,
          waiting: 2,
          successRate: null,
          latencyMs: null,
        },
      ].sort((x, y) => x.destinationId.localeCompare(y.destinationId)),
    });

    const one = await get(`/stats/deliveries?since=${iso(since)}&until=${iso(until)}&destinationId=${b.id}`);
    expect((one.body.destinations as unknown[]).length).toBe(1);
    expect(one.body.destinations).toMatchObject([{ destinationId: b.id, waiting: 2 }]);
  });

  it("a deleted destination is listed while its first-attempt records remain; an unknown id is a 404", async () => {
    await storeAt(H0, [eventText()]);
    const batch = (await storedIds())[0]!.batch_id!;
    await giveBatchDelivery(batch, "dst_00000000000000000000", [[1, 200, 25, H0 + 1000]], H0 + 1000);
    const { body } = await get(`/stats/deliveries?since=${iso(H0)}&until=${iso(H0 + HOUR_MS)}`);
    expect(body.destinations).toEqual([
      expect.objectContaining({ destinationId: "dst_00000000000000000000", destinationName: null, state: null, delivered: 1, latencyMs: { p50: 25, p95: 25, sample: 1 } }),
    ]);
    const unknown = await get(`/stats/deliveries?destinationId=dst_ffffffffffffffffffff`);
    expect(unknown.res.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: "not_found" } });
  });

  it("counts what the real fan-out recorded: first attempts delivered, a failing destination retrying", async () => {
    const ok = await createDestination({ name: "ok", url: "https://ok.example.com/hook" });
    const down = await createDestination({ name: "down", url: "https://down.example.com/hook" });
    const started = Date.now();
    await storeAt(started, [eventText({ eventType: "user.session.start" }), eventText({ eventType: "user.session.start" })], { forward: "yes" });
    const { spy } = stubDestinations((r) => new Response(null, { status: r.url.includes("ok.example") ? 204 : 503 }));
    await fanOut((await storedIds())[0]!.uuid);
    spy.mockRestore();
    const { body } = await get(`/stats/deliveries?since=${iso(started - 1000)}&until=${iso(Date.now() + 1000)}`);
    const byName = Object.fromEntries((body.destinations as Array<{ destinationName: string }>).map((d) => [d.destinationName, d]));
    expect(byName.ok).toMatchObject({ destinationId: ok.id, delivered: 2, deliveredFirstAttempt: 2, retrying: 0, successRate: 1, latencyMs: { p50: expect.any(Number), p95: expect.any(Number), sample: 2 } });
    expect(byName.down).toMatchObject({ destinationId: down.id, delivered: 0, retrying: 2, successRate: null, latencyMs: null });
  });
});

describe("GET /admin/api/stats: the overview", () => {
  it("shows D1's size against its limit, the stored range, the outbox, the last 24 hours and the retention settings", async () => {
    await storeAt(H0, [eventText()]);
    await storeAt(Date.now(), [eventText(), eventText()], { forward: "yes" });
    const { res, body } = await get("/stats", "admin", { RETENTION_EVENT_DAYS: "14", D1_SIZE_LIMIT_MB: "500" });
    expect(res.status).toBe(200);
    expect(body).toEqual({
      d1: { sizeBytes: expect.any(Number), limitBytes: 500_000_000, usedPercent: expect.any(Number) },
      events: { oldestReceivedAt: iso(H0), newestReceivedAt: expect.any(String), receivedLast24Hours: 2 },
      outbox: { batches: 1, oldestCreatedAt: expect.any(String) },
      retention: { eventDays: 14, deadLetterDays: 30, inlineCallDays: 7, statsDays: 400, archive: false },
    });
    expect((body.d1 as { sizeBytes: number }).sizeBytes).toBeGreaterThan(0);
  });

  it("answers for an empty store too", async () => {
    const { body } = await get("/stats");
    expect(body).toMatchObject({ events: { oldestReceivedAt: null, newestReceivedAt: null, receivedLast24Hours: 0 }, outbox: { batches: 0, oldestCreatedAt: null } });
  });
});
