/**
 * The storage edge (src/storage/d1.ts): every D1 failure leaves storage as a StorageError, whatever D1's message
 * says, and every route turns it into 503 storage_unavailable — recognised by type, not by the message's text.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { StorageError, storageDatabase } from "../../src/storage/d1";
import { ADMIN_HEADERS } from "../helpers/forwarding";
import { BASE, callWorker, failingDatabase } from "../helpers/worker";

describe("storageDatabase", () => {
  it("turns every failing call into a StorageError that keeps D1's error as its cause", async () => {
    const db = storageDatabase(failingDatabase("disk I/O error"));
    const statement = db.prepare("SELECT uuid FROM events WHERE uuid = ?1").bind("x");
    for (const call of [() => statement.first(), () => statement.all(), () => statement.run(), () => statement.raw(), () => db.batch([statement]), () => db.exec("SELECT 1")]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).cause).toBeInstanceOf(Error);
      expect((error as StorageError).message).toContain("disk I/O error");
    }
  });

  it("names the operation without bound values", async () => {
    const db = storageDatabase(failingDatabase());
    const error = (await db.prepare("  SELECT payload\n FROM events WHERE uuid = ?1").bind("secret-value").first().catch((e: unknown) => e)) as StorageError;
    expect(error.operation).toBe("SELECT payload FROM events");
    expect(error.message).not.toContain("secret-value");
  });

  it("works against real local D1, batches included (D1 only accepts its own statements in a batch)", async () => {
    const db = storageDatabase(env.DB);
    const [one, two] = await db.batch([db.prepare("SELECT 1 AS n"), db.prepare("SELECT ?1 AS n").bind(2)]);
    expect([one!.results[0], two!.results[0]]).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await db.prepare("SELECT ?1 AS n").bind(3).first()).toEqual({ n: 3 });
  });

  it("is one wrapper per binding (isolate caches key on the database object) and never wraps twice", () => {
    const db = storageDatabase(env.DB);
    expect(storageDatabase(env.DB)).toBe(db);
    expect(storageDatabase(db)).toBe(db);
  });
});

describe("every route answers a D1 failure with 503 storage_unavailable, whatever D1's message", () => {
  it.each([
    ["GET", "/admin/api/destinations"],
    ["GET", "/admin/api/rules"],
    ["GET", "/admin/api/events/x/deliveries"],
    ["PUT", "/admin/api/rules/lookup-tables/t/entries/k"],
  ])("%s %s", async (method, path) => {
    const res = await callWorker(
      new Request(`${BASE}${path}`, {
        method,
        headers: { ...ADMIN_HEADERS, "content-type": "application/json" },
        ...(method === "PUT" ? { body: JSON.stringify({ value: 1 }) } : {}),
      }),
      // No "D1_" prefix: the type, not the text, is what is recognised.
      { DB: failingDatabase("network connection lost") },
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("storage_unavailable");
  });
});

describe("withStorageEdge", () => {
  it("is the same env object for the same env, so the configuration is parsed once per isolate, not per request", async () => {
    const { withStorageEdge } = await import("../../src/storage/d1");
    const { getConfig } = await import("../../src/config");
    const edged = withStorageEdge(env);
    expect(withStorageEdge(env)).toBe(edged);
    expect(withStorageEdge(edged)).toBe(edged);
    expect(getConfig(withStorageEdge(env))).toBe(getConfig(withStorageEdge(env)));
  });
});

describe("what each request cost in D1, on its log line", () => {
  async function requestLine(run: () => Promise<Response>): Promise<Record<string, unknown>> {
    const { vi } = await import("vitest");
    const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await run();
      const line = spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "request");
      return line!;
    } finally {
      spy.mockRestore();
    }
  }

  it("an event delivery's line carries D1's own counts: a new event writes rows, its redelivery writes none", async () => {
    const { envelope, eventHookPost, logEvent } = await import("../helpers/okta");
    const { recordingQueue } = await import("../helpers/worker");
    const body = envelope([logEvent(9001, { uuid: `meter-${crypto.randomUUID()}` })]);
    const first = await requestLine(() => callWorker(eventHookPost(body), { FORWARD_QUEUE: recordingQueue() }));
    // One round trip of eight statements: the events, the batch row, its types, its failed outcomes, the stats
    // rollup, its payload, the outbox row, the destinations version.
    expect(first).toMatchObject({ status: 204, stored: 1, d1Queries: 8 });
    // The row and each index entry count as rows written, as D1 bills them.
    expect(first.d1RowsWritten).toBeGreaterThanOrEqual(2);
    const again = await requestLine(() => callWorker(eventHookPost(body), { FORWARD_QUEUE: recordingQueue() }));
    expect(again).toMatchObject({ status: 204, duplicates: 1, d1Queries: 8, d1RowsWritten: 0 });
  });

  it("a delivery's line says how long it waited for D1 (d1Ms), and still does when D1 failed after a wait", async () => {
    const { envelope, eventHookPost, logEvent } = await import("../helpers/okta");
    const { recordingQueue } = await import("../helpers/worker");
    const stored = await requestLine(() =>
      callWorker(eventHookPost(envelope([logEvent(9002, { uuid: `meter-${crypto.randomUUID()}` })])), { FORWARD_QUEUE: recordingQueue() }),
    );
    expect(stored).toMatchObject({ status: 204, d1Ms: expect.any(Number) });
    // D1 answering nothing for 60 ms, then failing (a timeout, an outage): the wait is D1's share of the request.
    const failLate = () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error("D1_ERROR: simulated timeout")), 60));
    const statement = { bind: () => statement, all: failLate, run: failLate, first: failLate, raw: failLate };
    const db = { ...failingDatabase(), prepare: () => statement, batch: failLate } as unknown as D1Database;
    const { requestLines } = await import("../helpers/events");
    const { lines } = await requestLines(() =>
      callWorker(eventHookPost(envelope([logEvent(9003, { uuid: `meter-${crypto.randomUUID()}` })])), { FORWARD_QUEUE: recordingQueue(), DB: db }),
    );
    const line = lines[0]!;
    expect(line).toMatchObject({ status: 503, d1Queries: expect.any(Number), d1RowsRead: 0, d1RowsWritten: 0 });
    expect(line.d1Ms).toBeGreaterThanOrEqual(50);
  });

  it("an inline hook answered from the isolate's rule cache reads nothing from D1", async () => {
    const { postInline } = await import("../helpers/inline");
    const { fixture } = await import("../helpers/fixtures");
    await postInline("token", fixture("token-hook.request.json")); // warms the cache
    const line = await requestLine(() => postInline("token", fixture("token-hook.request.json")));
    expect(line.status).toBe(204);
    expect(line.d1Queries).toBeUndefined();
  });
});

describe("queue batches and cron runs say what D1 reported they cost", () => {
  it("a fan-out batch logs one 'queue batch' line with D1's counts; the configuration is parsed once per isolate", async () => {
    const { vi } = await import("vitest");
    const { createDestination, fanOut, storeEvent, clearForwarding, stubDestinations } = await import("../helpers/forwarding");
    const { getConfig } = await import("../../src/config");
    const { meteredEnv, newUsage } = await import("../../src/storage/d1");
    await clearForwarding();
    await createDestination({});
    const uuid = await storeEvent();
    const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const fetchSpy = stubDestinations(() => new Response(null, { status: 204 })).spy;
    try {
      await fanOut(uuid);
      const line = spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).find((l) => l.msg === "queue batch");
      expect(line).toMatchObject({ messages: 1, d1Queries: expect.any(Number) });
      // Fan-out leases the batch, reads its events and the destinations, and writes the destination's row of
      // first-attempt successes and the outbox row's removal.
      expect(line!.d1RowsWritten).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
      fetchSpy.mockRestore();
    }
    expect(getConfig(meteredEnv(env, newUsage()))).toBe(getConfig(meteredEnv(env, newUsage())));
  });
});
