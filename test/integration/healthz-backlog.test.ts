/**
 * The detailed /healthz (docs/operations.md "Health"): the forwarding backlog (oldest outbox batch, oldest overdue
 * delivery, counts), dead letters of the last hour, disabled destinations with reason and since when, and the
 * alerts — figures checked against rows inserted here, the status rules, the security group, and what one answer
 * costs in D1 rows read (D1's own count, from the request's log line) not growing with the history.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HEALTH_COUNT_LIMIT } from "../../src/http/health";
import { adminCall, clearForwarding, createDestination } from "../helpers/forwarding";
import { request, type Caller } from "../helpers/gateway";
import { TEST_ADMIN_TOKEN } from "../test-config";

const MIN = 60_000;

interface Health {
  status: string;
  problems: string[];
  disabledDestinations: Array<{ id: string; name: string; disabledReason: string | null; disabledAt: string | null; consecutiveFailures: number }>;
  backlog: {
    lateAfterMinutes: number;
    countLimit: number;
    outbox: { batches: number | null; oldestAt: string | null; oldestAgeSeconds: number | null };
    deliveries: { retrying: number | null; overdue: number | null; waiting: number | null; oldestOverdueSince: string | null; oldestOverdueSeconds: number | null };
  };
  deadLetters: { lastHour: number | null };
  alerts: {
    destinationId: string | null;
    destination: { name: string; state: string } | null;
    cooldownMinutes: number;
    recent: Array<{ id: number; kind: string; subject: string; state: string; lastError: string | null }>;
  };
}

/** /healthz as `as`, with the request's log line (what D1 reported it cost). */
async function health(as: Caller = "admin", envOverrides = {}) {
  const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    const before = Date.now();
    const res = await request("/healthz", { as, env: envOverrides });
    const body = (await res.json()) as Health;
    const line = spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "request")!;
    return { res, body, before, after: Date.now(), rowsRead: line.d1RowsRead as number };
  } finally {
    spy.mockRestore();
  }
}

async function addOutboxBatch(batchId: number, createdAt: number, enqueuedAt: number | null = createdAt) {
  await env.DB.prepare("INSERT INTO forward_outbox (batch_id, created_at, enqueued_at) VALUES (?1, ?2, ?3)").bind(batchId, createdAt, enqueuedAt).run();
}

async function addDelivery(destinationId: string, state: string, nextAttemptAt: number | null) {
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at)
     VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)`,
  )
    .bind(crypto.randomUUID(), destinationId, state, nextAttemptAt, now)
    .run();
}

async function addDeadLetter(destinationId: string, recordedAt: number) {
  await env.DB.prepare("INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES (?1, ?2, 'HTTP 400', 1, ?3)")
    .bind(crypto.randomUUID(), destinationId, recordedAt)
    .run();
}

async function addAlert(fields: { state: string; raisedAt: number; destinationId: string; lastError?: string }) {
  await env.DB.prepare(
    `INSERT INTO alerts (alert_key, kind, subject, raised_at, details, destination_id, state, attempts, last_error, updated_at)
     VALUES (lower(hex(randomblob(16))), 'backlog.late', 'backlog', ?1, '{}', ?2, ?3, 13, ?4, ?1)`,
  )
    .bind(fields.raisedAt, fields.destinationId, fields.state, fields.lastError ?? null)
    .run();
}

beforeEach(async () => {
  await clearForwarding();
  await env.DB.prepare("DELETE FROM alerts").run();
});
afterEach(() => vi.restoreAllMocks());

describe("security: /healthz shows the backlog only with the admin token", () => {
  it("an anonymous caller gets the status alone, even when the backlog is late", async () => {
    const d = await createDestination({ name: "crm-internal" });
    await addOutboxBatch(1, Date.now() - 40 * MIN);
    await addDelivery(d.id, "failed", Date.now() - 30 * MIN);
    await addDeadLetter(d.id, Date.now() - MIN);
    const { res, body } = await health("anonymous");
    expect(res.status).toBe(200);
    expect(body).toEqual({ status: "degraded" });
  });

  it("a wrong token, another scheme or Okta's secret is a 401; no token configured is a 503; nothing else is shown", async () => {
    for (const headers of [{ authorization: "Bearer wrong" }, { authorization: `Basic ${TEST_ADMIN_TOKEN}` }, { authorization: "" }]) {
      const res = await request("/healthz", { headers });
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { code: "unauthorized", message: "Missing or invalid admin token." } });
      expect(text).not.toContain("backlog");
    }
    expect((await request("/healthz", { as: "okta" })).status).toBe(401);
    const unset = await request("/healthz", { as: "admin", env: { ADMIN_TOKEN: "" } });
    expect(unset.status).toBe(503);
    expect(await unset.text()).not.toContain("backlog");
  });

  it("a body or a query changes nothing: other methods are a 404 in the API's format, an oversized body too, never a 500", async () => {
    const withQuery = await request("/healthz?details=true&limit=999999", { as: "anonymous" });
    expect(await withQuery.json()).toEqual({ status: "ok" });
    for (const body of ["{not json", "x".repeat(2 * 1024 * 1024)]) {
      const res = await request("/healthz", { as: "admin", method: "POST", body });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "not_found", message: "No route for POST /healthz." } });
    }
    expect(await (await request("/healthz", { as: "admin" })).json()).toMatchObject({ status: "ok" });
  });
});

describe("the backlog, dead letters and disabled destinations, against known rows", () => {
  it("reports the oldest outbox batch, the most overdue delivery, the counts and the last hour's dead letters", async () => {
    const active = await createDestination({ name: "active" });
    const paused = await createDestination({ name: "paused", state: "paused" });
    const now = Date.now();
    await addOutboxBatch(41, now - 20 * MIN);
    await addOutboxBatch(42, now - MIN, null);
    await addDelivery(active.id, "failed", now - 30 * MIN); // overdue: its retry message was lost
    await addDelivery(active.id, "failed", now - 1000); // due a second ago
    await addDelivery(active.id, "failed", now + 10 * MIN); // waiting for its retry: not overdue
    await addDelivery(active.id, "pending", now - 2 * MIN);
    await addDelivery(active.id, "delivered", null);
    await addDelivery(active.id, "dead", null);
    await addDelivery(paused.id, "waiting", null);
    await addDelivery(paused.id, "waiting", null);
    await addDeadLetter(active.id, now - 10 * MIN);
    await addDeadLetter(paused.id, now - 59 * MIN);
    await addDeadLetter("", now - 5 * MIN); // an event that never reached fan-out
    await addDeadLetter(active.id, now - 2 * 60 * MIN); // older than the hour

    const { res, body, before, after } = await health();
    expect(res.status).toBe(200);
    const age = (ms: number) => ({ low: Math.floor((before - ms) / 1000), high: Math.floor((after - ms) / 1000) });
    const outboxAge = age(now - 20 * MIN);
    const overdueAge = age(now - 30 * MIN);
    expect(body.backlog).toEqual({
      lateAfterMinutes: 15,
      countLimit: HEALTH_COUNT_LIMIT,
      outbox: { batches: 2, oldestAt: new Date(now - 20 * MIN).toISOString(), oldestAgeSeconds: expect.any(Number) },
      deliveries: {
        retrying: 4,
        overdue: 3,
        waiting: 2,
        oldestOverdueSince: new Date(now - 30 * MIN).toISOString(),
        oldestOverdueSeconds: expect.any(Number),
      },
    });
    expect(body.backlog.outbox.oldestAgeSeconds).toBeGreaterThanOrEqual(outboxAge.low);
    expect(body.backlog.outbox.oldestAgeSeconds).toBeLessThanOrEqual(outboxAge.high);
    expect(body.backlog.deliveries.oldestOverdueSeconds).toBeGreaterThanOrEqual(overdueAge.low);
    expect(body.backlog.deliveries.oldestOverdueSeconds).toBeLessThanOrEqual(overdueAge.high);
    expect(body.deadLetters).toEqual({ lastHour: 3 });
    expect(body.status).toBe("degraded");
    expect(body.problems).toEqual([
      "Forwarding is behind: the oldest batch not fanned out is 20 minutes old (late after 15 minutes, ALERT_BACKLOG_MINUTES); check that the forward queue is consumed (docs/operations.md, Health)",
      "Forwarding is behind: a delivery is 30 minutes past its scheduled attempt (late after 15 minutes, ALERT_BACKLOG_MINUTES); check that the forward queue is consumed (docs/operations.md, Health)",
    ]);
  });

  it("a backlog younger than ALERT_BACKLOG_MINUTES is ok; waiting deliveries and dead letters are reported, not judged", async () => {
    const active = await createDestination({ name: "active" });
    const paused = await createDestination({ name: "paused", state: "paused" });
    const now = Date.now();
    await addOutboxBatch(7, now - 14 * MIN);
    await addDelivery(active.id, "failed", now - 14 * MIN);
    for (let i = 0; i < 3; i++) await addDelivery(paused.id, "waiting", null);
    await addDeadLetter(active.id, now - MIN);
    const { body } = await health();
    expect(body.status).toBe("ok");
    expect(body.problems).toEqual([]);
    expect(body.backlog.deliveries.waiting).toBe(3);
    expect(body.deadLetters.lastHour).toBe(1);
    expect((await health("anonymous")).body).toEqual({ status: "ok" });
  });

  it("ALERT_BACKLOG_MINUTES moves the line for /healthz, for the anonymous status as well", async () => {
    await addOutboxBatch(8, Date.now() - 20 * MIN);
    expect((await health("anonymous")).body).toEqual({ status: "degraded" });
    const relaxed = await health("admin", { ALERT_BACKLOG_MINUTES: "30" });
    expect(relaxed.body.status).toBe("ok");
    expect(relaxed.body.backlog.lateAfterMinutes).toBe(30);
    expect((await health("anonymous", { ALERT_BACKLOG_MINUTES: "30" })).body).toEqual({ status: "ok" });
  });

  it("lists disabled destinations with the reason and since when; re-enabling clears it", async () => {
    const d = await createDestination({ name: "payroll" });
    const before = Date.now();
    expect((await adminCall("PATCH", `/destinations/${d.id}`, { state: "disabled" })).status).toBe(200);
    const { body } = await health();
    expect(body.status).toBe("degraded");
    expect(body.disabledDestinations).toEqual([
      { id: d.id, name: "payroll", disabledReason: "disabled by an operator", disabledAt: expect.any(String), consecutiveFailures: 0 },
    ]);
    const since = Date.parse(body.disabledDestinations[0]!.disabledAt!);
    expect(since).toBeGreaterThanOrEqual(before);
    expect(since).toBeLessThanOrEqual(Date.now());
    // A rename while disabled does not move "since".
    await adminCall("PATCH", `/destinations/${d.id}`, { name: "payroll-renamed" });
    expect((await health()).body.disabledDestinations[0]!.disabledAt).toBe(body.disabledDestinations[0]!.disabledAt);
    await adminCall("PATCH", `/destinations/${d.id}`, { state: "active" });
    const row = await env.DB.prepare("SELECT disabled_at FROM destinations WHERE id = ?1").bind(d.id).first<{ disabled_at: number | null }>();
    expect(row?.disabled_at).toBeNull();
    expect((await health()).body).toMatchObject({ status: "ok", disabledDestinations: [] });
  });
});

describe("the alerts part", () => {
  it("names the alert destination, or says it does not exist", async () => {
    const target = await createDestination({ name: "on-call", eventTypes: ["gateway.alert"] });
    const ok = await health("admin", { ALERT_DESTINATION_ID: target.id, ALERT_COOLDOWN_MINUTES: "30" });
    expect(ok.body.status).toBe("ok");
    expect(ok.body.alerts).toEqual({ destinationId: target.id, destination: { name: "on-call", state: "active" }, cooldownMinutes: 30, recent: [] });
    const missing = await health("admin", { ALERT_DESTINATION_ID: "dst_00000000000000000000" });
    expect(missing.body.status).toBe("degraded");
    expect(missing.body.problems).toEqual(["ALERT_DESTINATION_ID names no destination: alerts are raised but cannot be delivered"]);
    expect((await health("anonymous", { ALERT_DESTINATION_ID: "dst_00000000000000000000" })).body).toEqual({ status: "degraded" });
  });

  it("lists the newest alerts; one raised in the last day that could not be delivered makes the status degraded", async () => {
    const target = await createDestination({ name: "on-call" });
    const now = Date.now();
    await addAlert({ state: "dead", raisedAt: now - 25 * 60 * MIN, destinationId: target.id, lastError: "HTTP 500" });
    await addAlert({ state: "delivered", raisedAt: now - 2 * MIN, destinationId: target.id });
    const history = await health("admin", { ALERT_DESTINATION_ID: target.id });
    expect(history.body.status).toBe("ok");
    expect(history.body.alerts.recent.map((a) => a.state)).toEqual(["delivered", "dead"]);

    await addAlert({ state: "dead", raisedAt: now - MIN, destinationId: target.id, lastError: "permanent failure: HTTP 404" });
    const { body } = await health("admin", { ALERT_DESTINATION_ID: target.id });
    expect(body.status).toBe("degraded");
    expect(body.problems).toEqual([expect.stringMatching(/^An alert could not be delivered to its destination \(alert \d+, backlog\.late, raised .+\): see alerts\.recent for the reason$/)]);
    expect(body.alerts.recent[0]).toMatchObject({ kind: "backlog.late", subject: "backlog", state: "dead", lastError: "permanent failure: HTTP 404" });
  });
});

describe("what one answer costs in D1 rows read", () => {
  it("does not grow with the delivery and dead-letter history, and the counts stop at the limit", async () => {
    const active = await createDestination({ name: "active" });
    const now = Date.now();
    // History the backlog must never visit: delivered and dead deliveries.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
       INSERT INTO deliveries (event_uuid, destination_id, state, attempts, created_at, updated_at, delivered_at)
       SELECT 'history-' || i, ?1, CASE WHEN i % 4 = 0 THEN 'dead' ELSE 'delivered' END, 2, ?2, ?2, ?2 FROM n`,
    )
      .bind(active.id, now)
      .run();
    // And dead letters older than the hour (dead_letters_destination, migration 0006, starts at the hour).
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
       INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at)
       SELECT 'history-' || i, CASE WHEN i % 3 = 0 THEN '' ELSE ?1 END, 'HTTP 400', 1, ?2 - 2 * 3600000 FROM n`,
    )
      .bind(active.id, now)
      .run();
    await addOutboxBatch(1, now - MIN);
    for (let i = 0; i < 5; i++) await addDelivery(active.id, "failed", now + MIN);
    for (let i = 0; i < 4; i++) await addDeadLetter(i % 2 === 0 ? active.id : "", now - MIN);
    const small = await health();
    expect(small.body.backlog.deliveries.retrying).toBe(5);
    expect(small.body.deadLetters.lastHour).toBe(4);
    const anonymous = await health("anonymous");
    // A few rows whatever the history: the ping, the destinations, the backlog's oldest items, the alerts.
    expect(anonymous.rowsRead).toBeLessThanOrEqual(10);
    expect(small.rowsRead).toBeLessThanOrEqual(30);

    // A backlog larger than the limit: the counts stop there, and so do the rows read.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
       INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at)
       SELECT 'backlog-' || i, ?1, 'waiting', 0, NULL, ?2, ?2 FROM n`,
    )
      .bind(active.id, now, HEALTH_COUNT_LIMIT + 500)
      .run();
    const large = await health();
    expect(large.body.backlog.deliveries.waiting).toBe(HEALTH_COUNT_LIMIT);
    expect(large.rowsRead).toBeLessThan(HEALTH_COUNT_LIMIT + 100);
    expect((await health("anonymous")).rowsRead).toBeLessThanOrEqual(10);
  });
});
