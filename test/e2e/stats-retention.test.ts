/**
 * End to end (docs/operations.md "Stats", "Retention"): the real Worker under `wrangler dev` with local D1 counts
 * what Okta delivers over HTTP (duplicates once), answers the stats routes and /healthz with D1's size, and its
 * hourly cron purges what is past RETENTION_EVENT_DAYS — the cron triggered as Cloudflare would, the age made by
 * moving stored rows back in time.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, startGateway, type Gateway } from "./gateway.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/okta");
const SESSION_START = readFileSync(path.join(FIXTURES, "event-hook.delivery.user-session-start.json"), "utf8");
const LIFECYCLE_CREATE = readFileSync(path.join(FIXTURES, "captured/event-hook.delivery.user-lifecycle-create.json"), "utf8");

let gw: Gateway;

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.stop();
});

const admin = (p: string) => fetch(`${gw.baseUrl}${p}`, { headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
const deliver = (body: string) =>
  fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers: { "content-type": "application/json", authorization: E2E_EVENT_SECRET }, body });

describe("stats and retention over HTTP", () => {
  it("counts each stored event once, whatever Okta redelivers, and shows D1's size", async () => {
    for (const body of [SESSION_START, LIFECYCLE_CREATE, SESSION_START]) expect((await deliver(body)).status).toBe(204);

    const events = await admin("/admin/api/stats/events");
    expect(events.status).toBe(200);
    const body = (await events.json()) as { total: number; eventTypes: Array<{ eventType: string; count: number }> };
    expect(body.total).toBe(2);
    expect(body.eventTypes.map((t) => t.eventType).sort()).toEqual(["user.lifecycle.create", "user.session.start"]);

    const overview = (await (await admin("/admin/api/stats")).json()) as { d1: { sizeBytes: number; limitBytes: number }; events: { receivedLast24Hours: number } };
    expect(overview.d1.sizeBytes).toBeGreaterThan(0);
    expect(overview.d1.limitBytes).toBe(10_000_000_000);
    expect(overview.events.receivedLast24Hours).toBe(2);

    const health = (await (await admin("/healthz")).json()) as { status: string; d1: { sizeBytes: number; usedPercent: number } };
    expect(health.d1.sizeBytes).toBeGreaterThan(0);
    expect(health.d1.usedPercent).toBeLessThan(1);

    const anonymous = await fetch(`${gw.baseUrl}/admin/api/stats/events`);
    expect(anonymous.status).toBe(401);
    const bad = await admin("/admin/api/stats/events?bucket=week");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: "bad_request", message: 'bucket: must be "hour" or "day"' } });
  });

  it("the hourly cron purges events past RETENTION_EVENT_DAYS and logs what it removed; the newest event stays", async () => {
    const fresh = JSON.parse(SESSION_START) as { eventId: string; data: { events: Array<{ uuid: string }> } };
    fresh.eventId = crypto.randomUUID();
    fresh.data.events[0]!.uuid = `e2e-${crypto.randomUUID()}`;
    expect((await deliver(JSON.stringify(fresh))).status).toBe(204);
    // Everything stored so far but the newest delivery becomes 40 days old.
    const shift = 40 * 86_400_000;
    await gw.query(`UPDATE events SET received_at = received_at - ${shift} WHERE uuid <> '${fresh.data.events[0]!.uuid}'`);
    await gw.query(`UPDATE event_batches SET received_at = received_at - ${shift} WHERE id < (SELECT max(id) FROM event_batches)`);
    // Fan-out may still be running for the deliveries above: purge only once the outbox is empty (bounded wait).
    for (let i = 0; i < 60; i++) {
      const [row] = await gw.query<{ n: number }>("SELECT count(*) AS n FROM forward_outbox");
      if (row!.n === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const from = gw.output().length;
    const res = await gw.runScheduled("30 * * * *");
    expect(res.status).toBe(200);
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 40 && !line; i++) {
      await new Promise((r) => setTimeout(r, 250));
      line = gw
        .output()
        .slice(from)
        .split("\n")
        .flatMap((l) => (l.includes('"msg":"retention"') ? [JSON.parse(l.slice(l.indexOf("{"))) as Record<string, unknown>] : []))[0];
    }
    expect(line).toMatchObject({ level: "info", events: 2, batches: 2, more: false });
    const left = await gw.query<{ uuid: string }>("SELECT uuid FROM events");
    expect(left.map((r) => r.uuid)).toEqual([fresh.data.events[0]!.uuid]);
  });
});
