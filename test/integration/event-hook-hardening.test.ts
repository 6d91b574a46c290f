/**
 * Hostile event hook deliveries through the real route and the real consumer: an event nested deeper than SQLite's
 * JSON functions accept, identifiers that cannot round-trip through storage, and number spellings that only
 * survive if Okta's exact bytes are kept. Each case was found by review; each test failed before its fix.
 */
import { env } from "cloudflare:workers";
import type { Env } from "../../src/env";
import { compactPayloads } from "../../src/jobs/compact-payloads";
import { getEvent } from "../../src/storage/events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  clearForwarding,
  createDestination,
  fanOut,
  recordingQueue,
  stubDestinations,
} from "../helpers/forwarding";
import { EVENT_SECRET_NEW } from "../helpers/okta";
import { callWorker, countRows } from "../helpers/worker";

function post(text: string): Promise<Response> {
  return callWorker(
    new Request("https://gateway.test/hooks/events", {
      method: "POST",
      headers: { authorization: EVENT_SECRET_NEW, "content-type": "application/json" },
      body: text,
    }),
    { FORWARD_QUEUE: recordingQueue() },
  );
}

/** A delivery body built from event texts as given (not re-serialised). */
const deliveryText = (eventTexts: string[]) =>
  `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://acme.okta.com/api/v1/eventHooks/whoHook","eventId":"${crypto.randomUUID()}","data":{"events":[${eventTexts.join(",")}]},"eventTime":"2026-11-24T10:00:00.000Z","contentType":"application/json"}`;

const eventText = (uuid: string, extra = "") =>
  `{"uuid":"${uuid}","published":"2026-11-24T10:00:00.000Z","eventType":"user.session.start","version":"0","severity":"INFO","actor":{"id":"00u1","type":"User","alternateId":"a@example.com"},"outcome":{"result":"SUCCESS"}${extra}}`;

async function storedPayload(uuid: string): Promise<string | undefined> {
  return (await getEvent(env.DB, uuid))?.payload;
}

beforeEach(async () => {
  await env.DB.exec("DELETE FROM events");
  await clearForwarding();
});
afterEach(() => vi.restoreAllMocks());

describe("a deeply nested event is stored like any other, and costs its delivery nothing", () => {
  const depth = 1_100;
  const deep = (uuid: string) => eventText(uuid, `,"debugContext":{"debugData":{"nested":${"[".repeat(depth)}${"]".repeat(depth)}}}`);

  it("[valid, 1,100-deep, valid] → 204, all three stored, the deep one byte for byte", async () => {
    const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const res = await post(deliveryText([eventText(a), deep(b), eventText(c)]));
    expect(res.status).toBe(204);
    expect(await countRows("events")).toBe(3);
    expect(await storedPayload(b)).toBe(deep(b));
  });

  it("and it is forwarded: the destination receives Okta's text of it", async () => {
    await createDestination({ eventTypes: ["user.session.start"] });
    const uuid = crypto.randomUUID();
    expect((await post(deliveryText([deep(uuid)]))).status).toBe(204);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuid);
    expect(captured).toHaveLength(1);
    expect(captured[0]!.body).toBe(`{"type":"user.session.start","timestamp":"2026-11-24T10:00:00.000Z","data":${deep(uuid)}}`);
  });
});

describe("identifiers that cannot round-trip are refused at the edge, naming the event", () => {
  it.each([
    ['"x\\ud800"', "lone high surrogate (valid JSON)"],
    ['"\\udc00abc"', "lone low surrogate"],
    ['"a b"', "space"],
    ['"a/b"', "slash"],
    ['"%00"', "percent"],
    [`"${"u".repeat(129)}"`, "129 characters"],
    ['"😀"', "emoji"],
  ])("uuid %s (%s) → 400, nothing of the delivery stored", async (uuidJson) => {
    const good = crypto.randomUUID();
    const res = await post(deliveryText([eventText(good), `{"uuid":${uuidJson},"eventType":"user.session.start"}`]));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_body");
    expect(body.error.message).toMatch(/data\.events\[1\]\.uuid: must be 1-128 characters/);
    expect(await countRows("events")).toBe(0);
  });

  it("an eventType with a lone surrogate → 400 naming it", async () => {
    const res = await post(deliveryText([`{"uuid":"${crypto.randomUUID()}","eventType":"user.session\\ud800"}`]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/data\.events\[0\]\.eventType: must be 1-200 characters/);
  });

  it("a lone surrogate in a searchable column (actor.alternateId) is stored as U+FFFD, the payload keeps Okta's escape", async () => {
    const uuid = crypto.randomUUID();
    const text = `{"uuid":"${uuid}","eventType":"user.session.start","actor":{"id":"00u1","alternateId":"a\\ud800@example.com"}}`;
    expect((await post(deliveryText([text]))).status).toBe(204);
    const row = await getEvent(env.DB, uuid);
    expect({ alt: row?.actorAlternateId, payload: row?.payload }).toEqual({ alt: "a\ufffd@example.com", payload: text });
  });

  it("real Okta uuids and event types still pass", async () => {
    const res = await post(deliveryText([eventText("4b9e1d8f-f684-11e9-ad48-d37548da8f9c")]));
    expect(res.status).toBe(204);
    const odd = `{"uuid":"${crypto.randomUUID()}","eventType":"User.authentication.auth_via_IDP"}`;
    expect((await post(deliveryText([odd]))).status).toBe(204);
  });
});

describe("each event is kept and forwarded as the exact bytes Okta sent", () => {
  it("1e400, a 23-digit integer, escapes and key order arrive at the destination unchanged, in both formats", async () => {
    await createDestination({ eventTypes: ["*"] });
    await createDestination({ eventTypes: ["*"], format: "okta", oktaAuth: { header: "authorization", value: "receiver-secret" } });
    const uuid = crypto.randomUUID();
    const text = eventText(uuid, `,"debugContext":{"debugData":{"huge":1e400,"id":12345678901234567890123,"small":1.0,"esc":"\\u00e9\\/","spaced" : [ 1 ,2 ]}}`);
    expect((await post(deliveryText([text]))).status).toBe(204);
    expect(await storedPayload(uuid)).toBe(text);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuid);
    expect(captured).toHaveLength(2);
    const asStandard = captured.find((c) => c.headers.get("idempotency-key") === null)!;
    const asOkta = captured.find((c) => c.headers.get("idempotency-key") !== null)!;
    expect(asStandard.body).toBe(`{"type":"user.session.start","timestamp":"2026-11-24T10:00:00.000Z","data":${text}}`);
    expect(asOkta.headers.get("idempotency-key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(asOkta.body).toContain(`"data":{"events":[${text}]}`);
  });

  it("multi-byte, 4-byte and raw U+2028/U+2029 text, escaped NUL, CRLF between events and a BOM: read back and sent as sent", async () => {
    await createDestination({ eventTypes: ["*"] });
    const uuids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const texts = [
      // JSON escapes (\u0000, \u2028) and raw multi-byte characters, kept as Okta wrote them.
      eventText(uuids[0]!, `,"displayMessage":"Zoë 日本語 😀𝄞 \\u0000 \\u2028"`),
      // Raw U+2028 and U+2029 (valid in JSON strings), escaped tab, quote and backslash.
      eventText(uuids[1]!, `,"displayMessage":"raw \u2028 and \u2029, tab\\t, quote \\" and \\\\"`),
      eventText(uuids[2]!, `,"displayMessage":"${"é😀".repeat(2_000)}"`),
    ];
    const body = "\ufeff" + deliveryText(texts).replace(`[${texts.join(",")}]`, `[\r\n${texts.join(",\r\n")}\r\n]`);
    expect((await post(body)).status).toBe(204);
    for (const [i, uuid] of uuids.entries()) expect(await storedPayload(uuid)).toBe(texts[i]);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuids[0]!);
    expect(captured.map((c) => c.body).sort()).toEqual(texts.map((t) => `{"type":"user.session.start","timestamp":"2026-11-24T10:00:00.000Z","data":${t}}`).sort());
    // Compressed by the compaction, the same texts.
    expect((await compactPayloads(env as unknown as Env)).compacted).toBeGreaterThan(0);
    for (const [i, uuid] of uuids.entries()) expect(await storedPayload(uuid)).toBe(texts[i]);
  });

  it("duplicate keys: the stored event is the one JSON.parse sees (the last data.events)", async () => {
    const first = crypto.randomUUID();
    const last = crypto.randomUUID();
    const body = `{"data":{"events":[${eventText(first)}]},"data":{"events":[],"events":[${eventText(last)}]}}`;
    expect((await post(body)).status).toBe(204);
    expect(await storedPayload(first)).toBeUndefined();
    expect(await storedPayload(last)).toBe(eventText(last));
  });
});

describe("rows left under the next batch id never block ingest", () => {
  it("a payload and an outbox row under the id the next batch gets (its batch gone) are replaced / kept, the delivery stored", async () => {
    // As if an operator had deleted the newest batch by hand: its payload and outbox rows stay, and the next batch
    // gets the same id (ids are max()+1). Ingest must not fail on the leftovers with 503 forever.
    const next = ((await env.DB.prepare("SELECT coalesce(max(id), 0) + 1 AS id FROM event_batches").first<{ id: number }>())!).id;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO event_payloads (batch_id, data) VALUES (?1, CAST('{\"stale\":true}' AS BLOB))").bind(next),
      env.DB.prepare("INSERT INTO forward_outbox (batch_id, created_at) VALUES (?1, 0)").bind(next),
    ]);
    const text = `{"uuid":"leftover-1","eventType":"user.session.start","published":"2026-11-30T10:00:00.000Z"}`;
    expect((await post(`{"eventType":"com.okta.event_hook","data":{"events":[${text}]}}`)).status).toBe(204);
    expect(await storedPayload("leftover-1")).toBe(text);
  });
});
