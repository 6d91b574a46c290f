/**
 * A destination's `lastFailure` in the admin API's view (GET list and one, PATCH): the newest failure still
 * standing — a delivery retrying, or a dead letter — with its time, status and short error; null once a retry
 * delivered it or when there was none. Through the real fan-out and retry path with a stubbed receiver, and what
 * the read costs in D1 rows (D1's own meta.rows_read) with a long retrying backlog and many dead letters.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { lastFailuresStatement } from "../../src/storage/destination-last-failure";
import { adminCall, attempt, clearForwarding, createDestination, fanOut, stubDestinations, storeEvent } from "../helpers/forwarding";
import { clearEvents } from "../helpers/events";

type Json = Record<string, any>;

beforeEach(async () => {
  await clearForwarding();
  await clearEvents();
});
afterEach(() => vi.restoreAllMocks());

const view = async (id: string) => (await (await adminCall("GET", `/destinations/${id}`)).json()) as Json;
const listed = async (id: string) => (((await (await adminCall("GET", "/destinations")).json()) as Json).destinations as Json[]).find((d) => d.id === id)!;

/** Answer every request with `status`. */
const receiver = (status: number) => {
  vi.restoreAllMocks();
  return stubDestinations(() => new Response(null, { status }));
};

describe("lastFailure", () => {
  it("is null for a destination that never failed, and after a first attempt that delivered", async () => {
    const d = await createDestination({});
    expect((await view(d.id)).lastFailure).toBeNull();
    receiver(204);
    await fanOut(await storeEvent());
    expect((await view(d.id)).lastFailure).toBeNull();
    expect((await listed(d.id)).lastFailure).toBeNull();
  });

  it("shows a failed first attempt while its delivery retries, and clears when the retry delivers", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    receiver(503);
    const before = Date.now();
    await fanOut(uuid);
    const failure = (await view(d.id)).lastFailure;
    expect(failure).toEqual({ at: expect.any(String), status: 503, error: "HTTP 503", delivery: "retrying" });
    expect(Date.parse(failure.at)).toBeGreaterThanOrEqual(before - 1000);
    expect((await listed(d.id)).lastFailure).toEqual(failure);

    // The second attempt fails differently: its own status and error are shown.
    receiver(500);
    await attempt(uuid, d.id);
    expect((await view(d.id)).lastFailure).toMatchObject({ status: 500, error: "HTTP 500", delivery: "retrying" });

    receiver(200);
    await attempt(uuid, d.id);
    expect((await view(d.id)).lastFailure).toBeNull();
  });

  it("shows a dead delivery with its reason and last status; a newer retrying failure replaces it", async () => {
    const d = await createDestination({});
    receiver(410);
    await fanOut(await storeEvent());
    expect((await view(d.id)).lastFailure).toEqual({ at: expect.any(String), status: 410, error: "permanent failure: HTTP 410", delivery: "dead" });

    await new Promise((r) => setTimeout(r, 5));
    receiver(429);
    await fanOut(await storeEvent("user.lifecycle.create"));
    expect((await view(d.id)).lastFailure).toMatchObject({ status: 429, error: "HTTP 429", delivery: "retrying" });
  });

  it("is per destination: in the list, in one destination and in the answer to a PATCH", async () => {
    const failing = await createDestination({ name: "failing", url: "https://failing.example.com/x" });
    const fine = await createDestination({ name: "fine", url: "https://fine.example.com/x" });
    stubDestinations((req) => new Response(null, { status: req.url.startsWith("https://failing.") ? 502 : 200 }));
    await fanOut(await storeEvent());
    expect((await listed(failing.id)).lastFailure).toMatchObject({ status: 502, delivery: "retrying" });
    expect((await listed(fine.id)).lastFailure).toBeNull();
    const paused = (await (await adminCall("PATCH", `/destinations/${failing.id}`, { name: "still failing" })).json()) as Json;
    expect(paused.lastFailure).toMatchObject({ status: 502 });
    expect(JSON.stringify(paused.lastFailure)).not.toMatch(/failing\.example\.com|\/x/);
  });
});

describe("what it reads", () => {
  it("a few rows per destination, whatever its backlog of retrying deliveries and dead letters", async () => {
    const d = await createDestination({});
    const now = Date.now();
    // 400 retrying deliveries with two attempts each, and 400 dead letters.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
       INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at)
       SELECT 'e' || i, ?1, 'failed', 2, ?2 + 60000, 503, 'HTTP 503', ?2 + i, ?2 + i FROM n`,
    )
      .bind(d.id, now)
      .run();
    await env.DB.prepare(
      `INSERT INTO delivery_attempts (event_uuid, destination_id, attempt, attempted_at, status, latency_ms, outcome, error)
       SELECT event_uuid, destination_id, a.value, created_at + a.value, 503, 10, 'retry', 'HTTP 503 #' || a.value
       FROM deliveries, json_each('[1,2]') a WHERE destination_id = ?1`,
    )
      .bind(d.id)
      .run();
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
       INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) SELECT 'x' || i, ?1, 'permanent failure: HTTP 404', 1, ?2 - 100000 + i FROM n`,
    )
      .bind(d.id, now)
      .run();

    const result = await lastFailuresStatement(env.DB, [d.id]).all();
    // The newest delivery's last attempt, read through the indexes: not 400 + 800 + 400 rows.
    expect(result.meta.rows_read).toBeLessThanOrEqual(8);
    expect((await view(d.id)).lastFailure).toEqual({ at: new Date(now + 400 + 2).toISOString(), status: 503, error: "HTTP 503 #2", delivery: "retrying" });
  });
});
