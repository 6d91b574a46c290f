/**
 * The security group of POST /hooks/events: every bad input gets its 4xx with the JSON error body and leaves D1
 * unchanged; a failing D1 gives 503 so Okta's one retry counts (Okta retries 5xx, never 4xx:
 * https://developer.okta.com/docs/concepts/event-hooks/).
 */
import { env } from "cloudflare:workers";
import { getEvent } from "../../src/storage/events";
import { beforeEach, describe, expect, it } from "vitest";
import { fixtureText } from "../helpers/fixtures";
import { EVENT_SECRET_NEW, EVENT_SECRET_OLD, envelope, eventHookPost, logEvent } from "../helpers/okta";
import { mutate, prng } from "../helpers/mutate";
import { BASE, callWorker, countRows, failingDatabase } from "../helpers/worker";
import type { Env } from "../../src/env";
import { TEST_ADMIN_TOKEN } from "../test-config";

const valid = fixtureText("captured/event-hook.delivery.user-lifecycle-create.json");

beforeEach(async () => {
  await env.DB.exec("DELETE FROM events");
  // Something already stored, so "unchanged" means more than "still empty".
  await callWorker(eventHookPost(envelope([logEvent(1)])));
  expect(await countRows("events")).toBe(1);
});

/** Everything an event delivery writes: events, their batches, the outbox. */
async function storeSnapshot() {
  const [events, batches, outbox] = await env.DB.batch([
    env.DB.prepare("SELECT uuid, forward, batch_id FROM events ORDER BY uuid"),
    env.DB.prepare("SELECT * FROM event_batches ORDER BY id"),
    env.DB.prepare("SELECT * FROM forward_outbox ORDER BY batch_id"),
  ]);
  return { events: events!.results, batches: batches!.results, outbox: outbox!.results };
}

async function expectRefused(
  request: Request,
  status: number,
  code: string,
  message: string | RegExp,
  overrides: Partial<Env> = {},
): Promise<void> {
  const before = await storeSnapshot();
  const res = await callWorker(request, overrides);
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
  expect(Object.keys(body)).toEqual(["error"]);
  expect(await storeSnapshot()).toEqual(before);
}

describe("POST /hooks/events — authentication", () => {
  it("401 without the auth header", async () => {
    const req = new Request(`${BASE}/hooks/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: valid,
    });
    await expectRefused(req, 401, "unauthorized", "Missing or invalid credentials.");
  });

  it("401 with a wrong secret", async () => {
    await expectRefused(eventHookPost(valid, { authorization: "wrong" }), 401, "unauthorized", /invalid credentials/);
  });

  it("401 with a secret that differs only in case, or with extra whitespace inside", async () => {
    await expectRefused(eventHookPost(valid, { authorization: EVENT_SECRET_NEW.toUpperCase() }), 401, "unauthorized", /./);
    await expectRefused(eventHookPost(valid, { authorization: `Basic ${EVENT_SECRET_NEW}` }), 401, "unauthorized", /./);
  });

  it("401 with the right secret in the wrong header (EVENT_HOOK_AUTH_HEADER set)", async () => {
    await expectRefused(eventHookPost(valid), 401, "unauthorized", /./, { EVENT_HOOK_AUTH_HEADER: "x-okta-secret" });
  });

  it("accepts both the old and the new secret during rotation, and the old one no longer after it", async () => {
    for (const secret of [EVENT_SECRET_OLD, EVENT_SECRET_NEW]) {
      const res = await callWorker(eventHookPost(valid, { authorization: secret }));
      expect(res.status).toBe(204);
    }
    await expectRefused(eventHookPost(envelope([logEvent(2)]), { authorization: EVENT_SECRET_OLD }), 401, "unauthorized", /./, {
      EVENT_HOOK_SECRETS: EVENT_SECRET_NEW,
    });
  });

  it("503 when EVENT_HOOK_SECRETS is empty: a hook never runs open", async () => {
    await expectRefused(eventHookPost(valid), 503, "not_configured", "This hook is not configured: set EVENT_HOOK_SECRETS.", {
      EVENT_HOOK_SECRETS: " , ",
    });
  });

  it("checks auth before reading the body (an unauthenticated oversized body is 401, not 413)", async () => {
    await expectRefused(eventHookPost("x".repeat(2_000_000), { authorization: "wrong" }), 401, "unauthorized", /./);
  });
});

describe("POST /hooks/events — malformed input", () => {
  it("415 for a body that is not declared JSON", async () => {
    await expectRefused(eventHookPost(valid, { "content-type": "text/plain" }), 415, "unsupported_media_type", /application\/json/);
    await expectRefused(eventHookPost(valid, { "content-type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type", /JSON/);
  });

  it("415 without a Content-Type", async () => {
    const req = new Request(`${BASE}/hooks/events`, {
      method: "POST",
      headers: { authorization: EVENT_SECRET_NEW },
      body: new TextEncoder().encode(valid),
    });
    await expectRefused(req, 415, "unsupported_media_type", /JSON/);
  });

  it("400 for an empty body", async () => {
    await expectRefused(eventHookPost(""), 400, "malformed_json", /empty/);
  });

  it("400 for malformed JSON", async () => {
    await expectRefused(eventHookPost(valid.slice(0, -10)), 400, "malformed_json", "The request body is not valid JSON.");
    await expectRefused(eventHookPost("{'single':'quotes'}"), 400, "malformed_json", /not valid JSON/);
  });

  it("400 for bytes that are not UTF-8", async () => {
    const req = new Request(`${BASE}/hooks/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: EVENT_SECRET_NEW },
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    await expectRefused(req, 400, "malformed_json", /UTF-8/);
  });

  it("400 naming data.events when it is missing", async () => {
    const { data: _data, ...noData } = JSON.parse(valid) as Record<string, unknown>;
    await expectRefused(eventHookPost(noData), 400, "invalid_body", /data: is required/);
    await expectRefused(eventHookPost({ ...noData, data: {} }), 400, "invalid_body", /data\.events: is required/);
  });

  it("400 naming data.events when it is not an array", async () => {
    await expectRefused(eventHookPost(envelope({ uuid: "x" } as unknown as unknown[])), 400, "invalid_body", /data\.events: must be an array/);
  });

  it("400 naming the event without a uuid, and stores none of the delivery", async () => {
    const noUuid = logEvent(5);
    delete noUuid.uuid;
    await expectRefused(eventHookPost(envelope([logEvent(3), logEvent(4), noUuid])), 400, "invalid_body", /data\.events\[2\]\.uuid: is required/);
  });

  it("400 for an empty or non-string uuid and a missing eventType", async () => {
    await expectRefused(eventHookPost(envelope([logEvent(6, { uuid: "" })])), 400, "invalid_body", /data\.events\[0\]\.uuid: must be 1-128 characters of A-Z a-z 0-9/);
    await expectRefused(eventHookPost(envelope([logEvent(6, { uuid: 42 })])), 400, "invalid_body", /data\.events\[0\]\.uuid/);
    const noType = logEvent(7);
    delete noType.eventType;
    await expectRefused(eventHookPost(envelope([noType])), 400, "invalid_body", /data\.events\[0\]\.eventType: is required/);
  });

  it("400 for an event that is not an object, and for a JSON array or scalar body", async () => {
    await expectRefused(eventHookPost(envelope(["oops"])), 400, "invalid_body", /data\.events\[0\]/);
    await expectRefused(eventHookPost("[]"), 400, "invalid_body", /./);
    await expectRefused(eventHookPost("null"), 400, "invalid_body", /./);
    await expectRefused(eventHookPost("42"), 400, "invalid_body", /./);
  });

  it("400 for an inline hook payload sent to the event hook URL", async () => {
    await expectRefused(eventHookPost(fixtureText("token-hook.request.json")), 400, "invalid_body", /eventType: must be "com\.okta\.event_hook"/);
  });
});

describe("POST /hooks/events — size limit", () => {
  it("413 when Content-Length declares more than MAX_BODY_BYTES", async () => {
    const body = JSON.stringify(envelope([logEvent(8, { pad: "x".repeat(5_000) })]));
    await expectRefused(eventHookPost(body), 413, "payload_too_large", "The request body is larger than 4096 bytes.", {
      MAX_BODY_BYTES: "4096",
    });
  });

  it("413 when a body without Content-Length (chunked) grows past the limit", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const req = new Request(`${BASE}/hooks/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: EVENT_SECRET_NEW },
      body: stream,
      // @ts-expect-error duplex is required for stream bodies in fetch but absent from the Request types
      duplex: "half",
    });
    expect(req.headers.get("content-length")).toBeNull();
    await expectRefused(req, 413, "payload_too_large", /larger than 4096 bytes/, { MAX_BODY_BYTES: "4096" });
  });

  it("413 at the default 1 MiB limit", async () => {
    await expectRefused(eventHookPost(`{"pad":"${"x".repeat(1024 * 1024)}"}`), 413, "payload_too_large", /1048576/);
  });
});

describe("POST /hooks/events — storage failure", () => {
  it("503 storage_unavailable when D1 fails, so Okta retries; no detail leaks", async () => {
    const res = await callWorker(eventHookPost(valid), { DB: failingDatabase("D1_ERROR: secret-internal-detail") });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain("secret-internal-detail");
    expect(JSON.parse(text)).toEqual({
      error: { code: "storage_unavailable", message: "The events could not be stored; Okta will retry this delivery." },
    });
  });
});

describe("other methods and paths", () => {
  it("404 JSON for an unknown path", async () => {
    const res = await callWorker(new Request(`${BASE}/nope`));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "No route for GET /nope." } });
  });

  it("PUT /hooks/events is refused with a JSON error and changes nothing", async () => {
    const req = new Request(`${BASE}/hooks/events`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: EVENT_SECRET_NEW },
      body: valid,
    });
    const res = await callWorker(req);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    expect(await countRows("events")).toBe(1);
  });
});

describe("POST /hooks/events — no input answers 500", () => {
  it("answers 204 or a 4xx JSON error to 300 mutated Okta deliveries", async () => {
    const random = prng(20261123);
    const base = JSON.parse(valid) as unknown;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const body = JSON.stringify(mutate(base, random)) ?? "";
      const res = await callWorker(eventHookPost(body));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect([204, 400], `mutation ${i}: ${body.slice(0, 300)}`).toContain(res.status);
      if (res.status !== 204) expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^(invalid_body|malformed_json)$/);
    }
    // The mutations reach both outcomes, so the loop tests something.
    expect(statuses.get(204)).toBeGreaterThan(10);
    expect(statuses.get(400)).toBeGreaterThan(10);
  });
});

describe("POST /hooks/events — an event too large for a D1 row", () => {
  it("413 naming the event, nothing stored: a retry could never succeed, so it is not a 5xx", async () => {
    // Incompressible text (a seeded pseudo-random stream): 2.8 MB that stays over 1.9 MB after compression.
    let seed = 12345;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const blob = Array.from({ length: 2_800_000 }, () => alphabet[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 26]).join("");
    const big = logEvent(90, { debugContext: { debugData: { blob } } });
    await expectRefused(
      eventHookPost(envelope([logEvent(91), big])),
      413,
      "payload_too_large",
      /^data\.events\[1\] is too large to store \(\d+ bytes compressed; at most 1900000\); no event of this delivery was stored\.$/,
      { MAX_BODY_BYTES: String(4 * 1024 * 1024) },
    );
  });

  it("stores a delivery larger than one payload row as several batches, in one transaction, each forwarded", async () => {
    // Three events of ~700 KB of text each: more than one batch's 1.5 MB, so two batches (and two outbox rows).
    let seed = 777;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const noise = () => Array.from({ length: 700_000 }, () => alphabet[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 26]).join("");
    const events = [logEvent(93, { debugContext: { debugData: { blob: noise() } } }), logEvent(94, { debugContext: { debugData: { blob: noise() } } }), logEvent(95, { debugContext: { debugData: { blob: noise() } } })];
    // Whatever this isolate's routing copy says, a destinations version it has not seen sends every batch to the
    // outbox (fan-out decides afresh).
    await env.DB.exec("UPDATE gateway_meta SET value = value + 1 WHERE key = 'destinations_version'");
    const res = await callWorker(eventHookPost(envelope(events)), { MAX_BODY_BYTES: String(4 * 1024 * 1024) });
    expect(res.status).toBe(204);
    const { results } = await env.DB.prepare(
      `SELECT e.uuid, e.batch_id, o.batch_id AS outbox FROM events e LEFT JOIN forward_outbox o ON o.batch_id = e.batch_id
       WHERE e.uuid IN (?1, ?2, ?3) ORDER BY e.id`,
    )
      .bind(events[0]!.uuid, events[1]!.uuid, events[2]!.uuid)
      .all<{ uuid: string; batch_id: number; outbox: number | null }>();
    expect(results.map((r) => r.uuid)).toEqual(events.map((e) => e.uuid));
    expect(new Set(results.map((r) => r.batch_id)).size).toBe(2);
    expect(results.every((r) => r.outbox === r.batch_id)).toBe(true);
    for (const event of events) expect(JSON.parse((await getEvent(env.DB, event.uuid as string))!.payload)).toEqual(event);
  });

  it("stores a large event that compresses under the limit (1.2 MB of repetitive text)", async () => {
    const big = logEvent(92, { debugContext: { debugData: { blob: "é".repeat(600_000) } } });
    const res = await callWorker(eventHookPost(envelope([big])), { MAX_BODY_BYTES: String(4 * 1024 * 1024) });
    expect(res.status).toBe(204);
    const stored = await getEvent(env.DB, big.uuid as string);
    expect(JSON.parse(stored!.payload)).toEqual(big);
  });
});

describe("admin API — storage down", () => {
  it("503 storage_unavailable, not 500, when D1 fails under an admin route", async () => {
    const res = await callWorker(
      new Request(`${BASE}/admin/api/destinations`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }),
      { DB: failingDatabase() },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "storage_unavailable", message: "Storage is unavailable; try again." } });
  });
});
