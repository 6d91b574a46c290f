/**
 * The R2 archive before purge, against local R2: one gzip NDJSON object per UTC day and event type, each line Okta's
 * exact event text with what the gateway knows, read back and compared byte for byte; a failed or unverifiable
 * archive purges nothing.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { runRetention } from "../../src/jobs/retention";
import { ARCHIVE_FORMAT } from "../../src/storage/archive";
import { envWith } from "../helpers/forwarding";
import { clearEventStore, DAY_MS, eventText, giveDelivery, storeAt, tableCounts } from "../helpers/stored-events";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_ARCHIVE: R2Bucket;
    }
  }
}

const NOW = Date.UTC(2026, 11, 20, 12, 0, 0);
const DAY1 = Date.UTC(2026, 10, 1, 23, 59, 0); // 2026-11-01
const DAY2 = Date.UTC(2026, 10, 2, 0, 1, 0); // 2026-11-02

const bucket = () => env.TEST_ARCHIVE;

async function clearBucket() {
  const listed = await bucket().list();
  if (listed.objects.length > 0) await bucket().delete(listed.objects.map((o) => o.key));
}

async function gunzipText(body: ArrayBuffer): Promise<string> {
  const stream = new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

async function archived(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const object of (await bucket().list()).objects) {
    const body = await bucket().get(object.key);
    const text = await gunzipText(await body!.arrayBuffer());
    expect(text.endsWith("\n")).toBe(true);
    out.set(object.key, text.slice(0, -1).split("\n"));
  }
  return out;
}

async function retain(e: Env) {
  const logs = vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  const report = await runRetention(e, NOW);
  return { report, lines: logs.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>) };
}

const withArchive = (archive: R2Bucket = bucket()) => envWith({ ARCHIVE: archive });

beforeEach(async () => {
  await clearEventStore();
  await clearBucket();
});
afterEach(() => vi.restoreAllMocks());

describe("archive to R2 before purge", () => {
  it("writes one object per UTC day and type, each line the exact event text and the envelope's facts", async () => {
    const texts = {
      a: eventText({ eventType: "user.session.start" }),
      b: eventText({ eventType: "user.session.start" }),
      c: eventText({ eventType: "user.lifecycle.create" }),
      d: eventText({ eventType: "user.session.start" }),
    };
    await storeAt(DAY1, [texts.a, texts.c], { oktaOrg: "acme.okta.com" });
    await storeAt(DAY1 + 1, [texts.b]);
    await storeAt(DAY2, [texts.d]);
    await storeAt(NOW, [eventText()]); // young, and the newest: stays
    const rows = await env.DB.prepare(
      `SELECT e.id, e.uuid, e.batch_id, e.received_at, b.okta_org, b.event_hook_id, b.envelope_event_id
       FROM events e JOIN event_batches b ON b.id = e.batch_id ORDER BY e.id`,
    ).all<Record<string, string | number | null>>();
    const byUuid = new Map(rows.results.map((r) => [r.uuid, r]));

    const { report, lines } = await retain(withArchive());
    expect(report).toMatchObject({ events: 4, archivedEvents: 4, archivedObjects: 3 });
    expect(lines).toContainEqual(expect.objectContaining({ msg: "retention", archivedObjects: 3, archivedEvents: 4, archivedBytes: report.archivedBytes }));

    const objects = await archived();
    const keys = [...objects.keys()].sort();
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^events\/2026\/11\/01\/user\.lifecycle\.create\/000000000002-000000000002-[0-9a-f]{12}\.ndjson\.gz$/);
    expect(keys[1]).toMatch(/^events\/2026\/11\/01\/user\.session\.start\/000000000001-000000000003-[0-9a-f]{12}\.ndjson\.gz$/);
    expect(keys[2]).toMatch(/^events\/2026\/11\/02\/user\.session\.start\/000000000004-000000000004-[0-9a-f]{12}\.ndjson\.gz$/);

    const sessionDay1 = objects.get(keys[1]!)!;
    expect(sessionDay1).toHaveLength(2);
    for (const [line, text] of [[sessionDay1[0]!, texts.a], [sessionDay1[1]!, texts.b], [objects.get(keys[0]!)![0]!, texts.c], [objects.get(keys[2]!)![0]!, texts.d]] as const) {
      // Okta's bytes, spliced in unparsed, last.
      expect(line.endsWith(`,"event":${text}}`)).toBe(true);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const row = byUuid.get(parsed.uuid as string)!;
      expect(parsed).toEqual({
        id: row.id,
        uuid: row.uuid,
        batchId: row.batch_id,
        receivedAt: new Date(row.received_at as number).toISOString(),
        oktaOrg: row.okta_org,
        eventHookId: row.event_hook_id,
        envelopeEventId: row.envelope_event_id,
        event: JSON.parse(text),
      });
    }
    const head = await bucket().head(keys[1]!);
    expect(head!.httpMetadata?.contentType).toBe("application/gzip");
    expect(head!.customMetadata).toEqual({ format: ARCHIVE_FORMAT, events: "2" });
    expect((await tableCounts()).events).toBe(1);
  });

  it("keeps numbers, escapes and spacing exactly as Okta sent them; a text with line breaks goes as eventText", async () => {
    const odd = `{"uuid":"odd-${crypto.randomUUID()}","eventType":"user.session.start","published":"2026-11-01T10:00:00.000Z","n":1e400,"big":12345678901234567890123,"s":"\\u00e9\\ud83d\\ude00 \\"q\\"",  "sp" :  [ 1 ,2 ]}`;
    const pretty = JSON.stringify(JSON.parse(eventText({ eventType: "user.session.start" })), null, 2);
    await storeAt(DAY1, [odd, pretty]);
    await storeAt(NOW, [eventText()]);
    await retain(withArchive());
    const [lines] = [...(await archived()).values()];
    expect(lines).toHaveLength(2);
    expect(lines![0]!.endsWith(`,"event":${odd}}`)).toBe(true);
    expect(lines![1]).not.toContain("\n");
    const second = JSON.parse(lines![1]!) as { eventText: string; event?: unknown };
    expect(second.event).toBeUndefined();
    expect(second.eventText).toBe(pretty);
  });

  it("archives nothing of what it does not purge: held and young events stay out of R2", async () => {
    const held = await storeAt(DAY1, [eventText(), eventText()]);
    await giveDelivery(held.inserted[0]!, "dst_a", "waiting", DAY1);
    await storeAt(NOW - DAY_MS, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain(withArchive());
    expect(report).toMatchObject({ events: 1, archivedEvents: 1, heldEvents: 1 });
    const lines = [...(await archived()).values()].flat();
    expect(lines.map((l) => (JSON.parse(l) as { uuid: string }).uuid)).toEqual([held.inserted[1]]);
  });

  it("writes the archive before deleting: the events are still in D1 while R2 receives them", async () => {
    await storeAt(DAY1, [eventText(), eventText()]);
    await storeAt(NOW, [eventText()]);
    const seen: number[] = [];
    const watching = new Proxy(bucket(), {
      get(target, property) {
        if (property === "put") {
          return async (...args: Parameters<R2Bucket["put"]>) => {
            seen.push((await tableCounts()).events!);
            return target.put(...args);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { report } = await retain(withArchive(watching));
    expect(report.events).toBe(2);
    expect(seen).toEqual([3]);
  });

  it("a failed write purges nothing, logs at error level and fails the run", async () => {
    await storeAt(DAY1, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const failing = { ...bucketMethods(), put: async () => Promise.reject(new Error("R2 unavailable")) } as unknown as R2Bucket;
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    await expect(runRetention(withArchive(failing), NOW)).rejects.toThrow(/write failed/);
    expect((await tableCounts()).events).toBe(2);
    const lines = errors.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ msg: "retention: archive failed, events not purged", key: expect.stringMatching(/^events\/2026\/11\/01\//) }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: "retention", level: "error", events: 0, more: true }));
  });

  it("an object that does not read back as written purges nothing", async () => {
    await storeAt(DAY1, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const corrupting = new Proxy(bucket(), {
      get(target, property) {
        if (property === "get") {
          return async (key: string) => {
            const real = await target.get(key);
            const bytes = new Uint8Array(await real!.arrayBuffer());
            bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
            return { arrayBuffer: async () => bytes.buffer } as unknown as R2ObjectBody;
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    await expect(runRetention(withArchive(corrupting), NOW)).rejects.toThrow(/read back different bytes/);
    expect((await tableCounts()).events).toBe(2);
  });

  it("without an ARCHIVE binding, events are purged and nothing is written", async () => {
    await storeAt(DAY1, [eventText()]);
    await storeAt(NOW, [eventText()]);
    const { report } = await retain(env as unknown as Env);
    expect(report).toMatchObject({ events: 1, archivedObjects: 0 });
    expect((await bucket().list()).objects).toEqual([]);
  });
});

describe("what the archive relies on in R2", () => {
  it("R2 refuses a put whose bytes do not match the SHA-256 sent with them (the archive sends its digest)", async () => {
    const body = new TextEncoder().encode("line\n");
    const wrong = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("other"));
    await expect(bucket().put("probe", body, { sha256: wrong })).rejects.toThrow();
    expect(await bucket().head("probe")).toBeNull();
  });
});

function bucketMethods() {
  const b = bucket();
  return { head: b.head.bind(b), get: b.get.bind(b), list: b.list.bind(b), delete: b.delete.bind(b) };
}
