/**
 * Payload compaction (src/jobs/compact-payloads.ts): the ingest stores a batch's texts plain, the cron compresses
 * them, and every event reads back — and forwards — as Okta's exact bytes in either form. Bounded per run; the mark
 * lets the next run continue; a failing D1 fails the run and loses nothing.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { compactPayloads } from "../../src/jobs/compact-payloads";
import { getEvent } from "../../src/storage/events";
import { batchOf, clearForwarding, createDestination, envWith, fanOut, postOktaDelivery, recordingQueue, stubDestinations } from "../helpers/forwarding";
import { envelope, logEvent } from "../helpers/okta";
import { readsMeasured } from "../helpers/reads-measured";

const realEnv = env as unknown as Env;

/** A batch's stored payload as bytes, and its SQLite type. */
async function payloadValue(batchId: number): Promise<{ bytes: Uint8Array; type: string }> {
  const row = await env.DB.prepare("SELECT data, typeof(data) AS type FROM event_payloads WHERE batch_id = ?1")
    .bind(batchId)
    .first<{ data: string | number[]; type: string }>();
  return { bytes: typeof row!.data === "string" ? new TextEncoder().encode(row!.data) : new Uint8Array(row!.data), type: row!.type };
}

async function payloadRow(batchId: number): Promise<Uint8Array> {
  return (await payloadValue(batchId)).bytes;
}

/** Store `events` in one delivery (queue send recorded, not consumed); the batch id. */
async function store(events: Array<Record<string, unknown>>): Promise<number> {
  const res = await postOktaDelivery(envelope(events), envWith({ FORWARD_QUEUE: recordingQueue() }));
  expect(res.status).toBe(204);
  return batchOf(events[0]!.uuid as string);
}

beforeEach(async () => {
  await clearForwarding();
  await env.DB.batch([env.DB.prepare("DELETE FROM event_payloads"), env.DB.prepare("DELETE FROM gateway_meta WHERE key = 'payloads_compacted_through'")]);
  vi.restoreAllMocks();
});

describe("payload compaction", () => {
  it("the ingest stores plain UTF-8; the cron compresses it to a fraction and every event reads back byte for byte", async () => {
    // Multi-byte characters (2, 3 and 4 bytes of UTF-8): the spans count bytes, a TEXT value's length() counts characters.
    const events = Array.from({ length: 20 }, (_, i) => logEvent(5000 + i, { debugContext: { debugData: { n: 1e300, note: `é ${i} 日本 🦄` } } }));
    const batchId = await store(events);
    const { bytes: plain, type } = await payloadValue(batchId);
    expect(type).toBe("blob");
    expect(plain[0]).toBe(0x7b);
    expect(new TextDecoder().decode(plain)).toBe(events.map((e) => JSON.stringify(e)).join(""));
    const before = await Promise.all(events.map((e) => getEvent(env.DB, e.uuid as string)));
    for (const [i, e] of before.entries()) expect(JSON.parse(e!.payload)).toEqual(events[i]);

    const result = await compactPayloads(realEnv);
    expect(result).toMatchObject({ compacted: 1, through: batchId, more: false, bytesBefore: plain.byteLength });
    const { bytes: packed, type: packedType } = await payloadValue(batchId);
    expect(packedType).toBe("blob");
    expect(packed[0]).toBe(0x01);
    expect(packed.byteLength).toBeLessThan(plain.byteLength / 3);
    const after = await Promise.all(events.map((e) => getEvent(env.DB, e.uuid as string)));
    expect(after.map((e) => e!.payload)).toEqual(before.map((e) => e!.payload));
    for (const [i, e] of after.entries()) expect(JSON.parse(e!.payload)).toEqual(events[i]);
  });

  it("the ingest hands D1 the texts as one string, never as a BLOB parameter (which D1's binding copies into an array of numbers)", async () => {
    const bound: unknown[][] = [];
    const recording = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.includes("INSERT INTO event_payloads")) return statement;
            return new Proxy(statement, {
              get(st, p) {
                if (p === "bind") return (...values: unknown[]) => (bound.push(values), st.bind(...values));
                const value = Reflect.get(st, p);
                return typeof value === "function" ? value.bind(st) : value;
              },
            });
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const event = logEvent(6500, { debugContext: { debugData: { note: "日本 🦄" } } });
    const res = await postOktaDelivery(envelope([event]), envWith({ DB: recording, FORWARD_QUEUE: recordingQueue() }));
    expect(res.status).toBe(204);
    expect(bound).toHaveLength(1);
    expect(bound[0]![1]).toBe(JSON.stringify(event));
    expect(JSON.parse((await getEvent(env.DB, event.uuid as string))!.payload)).toEqual(event);
  });

  it("a compacted batch fans out with Okta's exact bytes", async () => {
    await createDestination({ eventTypes: ["*"] });
    const text = `{"uuid":"compact-exact-1","eventType":"user.session.start","published":"2026-11-30T10:00:00.000Z","n":1e400,"big":12345678901234567890123,"esc":"\\u00e9"}`;
    const body = `{"eventType":"com.okta.event_hook","eventId":"e-1","data":{"events":[${text}]}}`;
    const res = await postOktaDelivery(body, envWith({ FORWARD_QUEUE: recordingQueue() }));
    expect(res.status).toBe(204);
    await compactPayloads(realEnv);
    expect((await payloadRow(await batchOf("compact-exact-1")))[0]).toBe(0x01);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut("compact-exact-1");
    expect(captured).toHaveLength(1);
    expect(captured[0]!.body).toBe(`{"type":"user.session.start","timestamp":"2026-11-30T10:00:00.000Z","data":${text}}`);
  });

  it("works a page at a time from its mark, within its budget, and the next run continues where it stopped", async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await store([logEvent(6000 + i)]));
    const first = await compactPayloads(realEnv, 60_000, 2);
    // Pages of two: all five in three pages of one run.
    expect(first).toMatchObject({ pages: 3, compacted: 5, through: ids.at(-1), more: false });
    const newer = await store([logEvent(6100)]);
    const second = await compactPayloads(realEnv, 60_000, 2);
    expect(second).toMatchObject({ pages: 1, compacted: 1, through: newer });
    // A budget already spent does no page: the mark stays.
    await store([logEvent(6101)]);
    expect(await compactPayloads(realEnv, -1, 2)).toMatchObject({ pages: 0, compacted: 0, through: newer });
  });

  it("a page reads a bounded number of payload bytes however large the batches, and the run still goes through all", async () => {
    // Large deliveries (an operator may allow up to 8 MiB bodies; a batch holds up to 1.5 MB of text): each batch
    // here is ~700 KB of text. D1 hands every BLOB to the Worker as an array of numbers, so the bytes a page reads
    // are what its memory has to hold.
    const big = (i: number) => logEvent(7100 + i, { debugContext: { debugData: { blob: String(i).padEnd(700_000, "abcdefghij") } } });
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await store([big(i)]));
    const pageBytes: number[] = [];
    const measured = envWith({ DB: payloadReadsMeasured(env.DB, (bytes) => pageBytes.push(bytes)) });
    const result = await compactPayloads(measured, 60_000, 50, 2_000_000);
    expect(result).toMatchObject({ compacted: 8, through: ids.at(-1), more: false });
    expect(pageBytes.filter((b) => b > 0).length).toBeGreaterThan(1);
    // At most the bound before its last row, plus that one batch.
    for (const bytes of pageBytes) expect(bytes).toBeLessThanOrEqual(2_000_000 + 710_000);
    for (const id of ids) expect((await payloadRow(id))[0]).toBe(0x01);
  });

  it("a failing D1 fails the run, changes nothing, and the next run compacts everything", async () => {
    const batchId = await store([logEvent(7000)]);
    const failing = envWith({
      DB: new Proxy(env.DB, {
        get(target, prop) {
          if (prop === "batch") return () => Promise.reject(new Error("D1_ERROR: simulated outage"));
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    });
    await expect(compactPayloads(failing)).rejects.toThrow(/simulated outage/);
    expect((await payloadRow(batchId))[0]).toBe(0x7b);
    expect(await compactPayloads(realEnv)).toMatchObject({ compacted: 1, through: batchId });
    expect((await payloadRow(batchId))[0]).toBe(0x01);
  });
});

/** `db`, reporting the payload bytes (`data` columns) each `.all()` read returned: the one measure of what a page makes the Worker hold. */
function payloadReadsMeasured(db: D1Database, report: (bytes: number) => void): D1Database {
  return readsMeasured<{ data?: ArrayLike<number> | ArrayBuffer }>(
    db,
    (rows) => rows.reduce((sum, row) => sum + (row.data === undefined ? 0 : ((row.data as ArrayBuffer).byteLength ?? (row.data as ArrayLike<number>).length)), 0),
    report,
  );
}
