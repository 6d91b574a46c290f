/**
 * No input makes any route answer 5xx, and a refused request changes nothing: a seeded fuzzer sends 10,000
 * requests to every route of the Worker — the event hook (verification and deliveries), the six inline hooks, the
 * admin API (stats included), its OpenAPI document and reference page, the dashboard's files and /healthz — with
 * random methods, credentials, content types, headers and bodies (mutated Okta examples, truncated and deeply
 * nested JSON, lone surrogates, out-of-range numbers, duplicate keys, binary junk, oversized values). Every answer must be below 500; every error must be our JSON error format; a 4xx must leave
 * every table a route writes as it was (events and their batches, destinations, inline rules and lookups, replay
 * jobs, dead letters), not only its own. Reproducible: a failure prints the seed and request number. Part of the
 * resilience suite (`npm run test:resilience`, docs/testing.md); outbound fetch answers 204, so what the fuzzer
 * stores is forwarded without reaching the network.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { INLINE_HOOK_TYPES } from "../../src/okta/inline/common";
import { requestFixtures } from "../helpers/fixtures";
import { ADMIN_TOKEN, callWorker, INLINE_SECRET } from "../helpers/inline";
import { mutate, prng } from "../helpers/mutate";
import { envelope, EVENT_SECRET_NEW, logEvent } from "../helpers/okta";

const SEED = 20261124;
const REQUESTS = 10_000;
/** A bound on wall time, so a slow machine fails clearly instead of hanging CI. */
const TIME_LIMIT_MS = 240_000;

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** JSON texts no serializer would write but a client can send. */
function oddJsonText(random: Random): string {
  const depth = int(random, 500, 20_000);
  return pick(random, [
    () => "[".repeat(depth) + "]".repeat(depth),
    // Deep nesting inside an otherwise valid event, and inside an admin value.
    () => `{"eventId":"e","data":{"events":[{"uuid":"deep-${int(random, 1, 1e9)}","eventType":"user.session.start","x":${"[".repeat(depth)}${"]".repeat(depth)}}]}}`,
    () => `{"kind":"token.claim","definition":{"token":"access","claim":"c","value":{"from":"static","value":${"[".repeat(depth)}${"]".repeat(depth)}}}}`,
    () => `{"name":"deep","url":"https://receiver.example.com/","eventTypes":${"[".repeat(depth)}${"]".repeat(depth)}}`,
    () => '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
    () => JSON.stringify(envelope([logEvent(1)])).slice(0, int(random, 0, 200)),
    () => '{"data":{"events":[{"uuid":"x\\ud800","eventType":"user.session.start"}]}}',
    () => '{"data":{"events":[{"uuid":"\\udfff\\ud800","eventType":"a"}]},"eventId":"\\ud800"}',
    () => '{"data":{"events":[{"uuid":"a","n":1e400,"big":123456789012345678901234}]}}',
    () => '{"data":{"events":[]},"data":{"events":[{"uuid":"dup-key"}]}}',
    () => "\ufeff" + JSON.stringify(envelope([logEvent(2)])),
    () => "null",
    () => "[]",
    () => '"just a string"',
    () => "1e999",
    () => "{}",
    () => '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
    () => "\u0000\u0001\u0002",
    () => JSON.stringify({ data: { events: [{ uuid: "u".repeat(int(random, 100, 5000)), eventType: "t".repeat(int(random, 1, 3000)) }] } }),
    () => JSON.stringify({ data: { events: Array.from({ length: int(random, 1, 50) }, () => ({ uuid: pick(random, ["", " ", "../x", "a/b", "%00", "\u202e", "😀"]) })) } }),
  ])();
}

function randomBytes(random: Random): Uint8Array {
  const bytes = new Uint8Array(int(random, 0, 4096));
  for (let i = 0; i < bytes.length; i++) bytes[i] = int(random, 0, 255);
  return bytes;
}

const ADMIN_BODIES: readonly unknown[] = [
  { name: "fuzz", url: "https://receiver.example.com/okta" },
  { name: "fuzz", url: "https://receiver.example.com/okta", eventTypes: ["user.*"], format: "okta", oktaAuth: { header: "authorization", value: "v" } },
  { state: "paused" },
  { gracePeriodSeconds: 60 },
  { kind: "registration.email-domain", definition: { allow: ["example.com"], errorSummary: "x", fieldMessage: "y" } },
  { kind: "registration.attribute-pattern", definition: { attribute: "lastName", pattern: "^[a-z]+$", effect: "deny-unless-match", errorSummary: "x", fieldMessage: "y" } },
  { kind: "token.claim", definition: { token: "access", claim: "dept", value: { from: "static", value: { a: [1, 2, { b: null }] } } } },
  { value: { region: "eu" } },
];

interface FuzzRequest {
  request: Request;
  /** The table a successful call could write, to check that a refusal wrote nothing. */
  writes?: "events" | "destinations" | "inline_rules" | "inline_lookup_entries" | "replay_jobs" | "dead_letters";
  describe: string;
}

function body(random: Random, valid: unknown): { text: string | Uint8Array; kind: string } {
  const r = random();
  if (r < 0.35) return { text: JSON.stringify(mutate(valid, random)) ?? "", kind: "mutated" };
  if (r < 0.7) return { text: oddJsonText(random), kind: "odd-json" };
  if (r < 0.8) return { text: randomBytes(random), kind: "bytes" };
  if (r < 0.85) return { text: "x".repeat(int(random, 1_000_000, 2_500_000)), kind: "huge" };
  return { text: JSON.stringify(valid), kind: "valid" };
}

function headersFor(random: Random, auth: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  const a = random();
  if (a < 0.8) Object.assign(headers, auth);
  else if (a < 0.9) headers.authorization = pick(random, ["", "Bearer", "Bearer wrong", "wrong", "Basic Zm9vOmJhcg==", "x".repeat(8000)]);
  headers["content-type"] = pick(random, [
    "application/json",
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
    "application/jsonx",
  ]);
  if (random() < 0.1) headers["content-length"] = String(int(random, 0, 10_000_000));
  if (random() < 0.1) headers["x-okta-verification-challenge"] = pick(random, ["", "c".repeat(10_000), "a\tb", "ok"]);
  return headers;
}

function nextRequest(random: Random, ids: { destination: string; rule: string }): FuzzRequest {
  const method = random() < 0.75 ? undefined : pick(random, ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]);
  const area = random();
  let path: string;
  let valid: unknown;
  let auth: Record<string, string>;
  let writes: FuzzRequest["writes"];
  let defaultMethod = "POST";
  if (area < 0.35) {
    path = "/hooks/events";
    valid = envelope([logEvent(int(random, 1, 1000)), logEvent(int(random, 1, 1000))]);
    auth = { authorization: EVENT_SECRET_NEW };
    writes = "events";
    if (random() < 0.15) defaultMethod = "GET";
  } else if (area < 0.65) {
    const fixture = pick(random, requestFixtures);
    path = `/hooks/inline/${random() < 0.95 ? fixture.type : pick(random, ["tokens", "TOKEN", "..%2ftoken", "", "token/extra"])}`;
    valid = fixture.body;
    auth = { authorization: INLINE_SECRET };
  } else if (area < 0.95) {
    auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const target = pick(random, [
      ["/admin/api/destinations", "POST", "destinations"],
      [`/admin/api/destinations/${ids.destination}`, "PATCH", "destinations"],
      [`/admin/api/destinations/${ids.destination}/rotate-secret`, "POST", "destinations"],
      [`/admin/api/destinations/${pick(random, ["dst_nope", "%00", "..", "x".repeat(500)])}`, "PATCH", "destinations"],
      ["/admin/api/rules", "POST", "inline_rules"],
      [`/admin/api/rules/${ids.rule}`, "PUT", "inline_rules"],
      [`/admin/api/rules/${ids.rule}`, "PATCH", "inline_rules"],
      [`/admin/api/rules/lookup-tables?${pick(random, ["limit=0", "after=%00", "limit=5", "after=a&after=b"])}`, "GET", undefined],
      [`/admin/api/destinations/${pick(random, [ids.destination, "dst_nope"])}/test-event`, "POST", "destinations"],
      [`/admin/api/rules/lookup-tables/regions/entries/${pick(random, ["k", "%F0%9F%98%80", "x".repeat(300), "%ZZ"])}`, "PUT", "inline_lookup_entries"],
      [`/admin/api/events/${pick(random, ["x", "%ED%A0%80", "u".repeat(300)])}/deliveries`, "GET", undefined],
      [`/admin/api/events/${pick(random, ["x", "%ED%A0%80", "u".repeat(300)])}`, "GET", undefined],
      [`/admin/api/events?${pick(random, ["type=user.*", "type=a..b", "limit=0", "cursor=x", "since=bad", `actor=${"x".repeat(300)}`, "page=2", "forward=pending,x", "target=%00"])}`, "GET", undefined],
      ["/admin/api/replays", "POST", "replay_jobs"],
      [`/admin/api/replays/${pick(random, ["job_1", "job_x", "%00", "x".repeat(300)])}/cancel`, "POST", "replay_jobs"],
      [`/admin/api/replays?${pick(random, ["limit=0", "cursor=x", "limit=5"])}`, "GET", undefined],
      ["/admin/api/dead-letters/redrive", "POST", "replay_jobs"],
      [`/admin/api/dead-letters/${pick(random, ["fan-out", "dst_nope", "%00"])}/${pick(random, ["x", "u".repeat(300)])}/redrive`, "POST", "dead_letters"],
      [`/admin/api/dead-letters?${pick(random, ["destinationId=x", "limit=500", "cursor=%00", "since=bad"])}`, "GET", undefined],
      [`/admin/api/inline-calls?${pick(random, ["type=token", "type=x", "decidedBy=rules:*", "decision=%00", "cursor=1.2.3", "cursor=x", "limit=999", "fallbackReason=deadline&since=bad"])}`, "GET", undefined],
      [`/admin/api/stats/inline?${pick(random, ["", "type=saml", "type=x", "since=2020-01-01T00:00:00Z", "until=bad", "since=a&since=b"])}`, "GET", undefined],
      [
        `/admin/api/dead-letters/${pick(random, ["fan-out", ids.destination, "dst_nope", "%00"])}/${pick(random, ["x", "u".repeat(300), "%ED%A0%80"])}`,
        pick(random, ["GET", "DELETE"]),
        "dead_letters",
      ],
      [`/admin/api/replays/${pick(random, ["job_1", "job_0", "job_99999999999999999", "%00", "x".repeat(300)])}`, "GET", undefined],
      [`/admin/api/destinations${pick(random, ["", `/${ids.destination}`, "/dst_nope", "/%00", "/" + "x".repeat(500)])}`, "GET", undefined],
      // Never the fuzzer's own destination: the requests after it need one to reach past the 404.
      [`/admin/api/destinations/${pick(random, ["dst_00000000000000000000", "dst_nope", "%00"])}`, "DELETE", "destinations"],
      [`/admin/api/stats?${pick(random, ["", "x=1", "since=2026-12-01T00:00:00Z"])}`, "GET", undefined],
      [
        `/admin/api/stats/events?${pick(random, [
          "bucket=day&since=0000-01-01T00:00:00Z&until=0000-03-01T00:00:00Z",
          "since=9999-12-31T23:59:59%2B14:00",
          "until=0000-01-01T00:00:00Z",
          "type=user.*",
          "type=.*",
          "bucket=week",
          "bucket=hour&bucket=day",
          "since=2026-02-31T00:00:00Z",
          `type=${"a".repeat(300)}`,
          "since=2026-12-01T00:00:00.123456789Z",
        ])}`,
        "GET",
        undefined,
      ],
      [
        `/admin/api/stats/deliveries?${pick(random, [
          "destinationId=dst_00000000000000000000",
          `destinationId=${ids.destination}`,
          "since=0000-01-01T00:00:00Z&until=0000-01-08T00:00:00Z",
          "since=2026-01-01T00:00:00Z",
          "until=x",
          "since=2026-12-01T00:00:00Z&until=2026-12-01T00:00:00.001Z",
        ])}`,
        "GET",
        undefined,
      ],
      [`/admin/api/rules/lookup-tables/${pick(random, ["regions", "%00", "x".repeat(200)])}?${pick(random, ["limit=0", "limit=1e3", "after=%ED%A0%80", "limit=5&limit=6"])}`, "GET", undefined],
      [`/admin/api/rules/lookup-tables/regions/entries/${pick(random, ["k", "%ED%A0%80", "x".repeat(600)])}`, "DELETE", "inline_lookup_entries"],
      [`/admin/api/rules/${pick(random, ["nope", "%00", "x".repeat(300)])}`, pick(random, ["GET", "DELETE"]), "inline_rules"],
      // The open documents and the dashboard's files (static assets through the ASSETS binding).
      [
        pick(random, [
          "/admin/api/openapi.json",
          "/admin/api/docs",
          `/admin/api/docs/assets/${pick(random, ["swagger-ui.css", "nope.js", "..%2f..%2fadmin%2findex.html", "%00.js", ".env"])}`,
          "/admin/",
          `/admin/assets/${pick(random, ["app.js", "nope.js", "..%2findex.html", "%2e%2e/%2e%2e/api-reference/index.html"])}`,
        ]),
        "GET",
        undefined,
      ],
    ] as const);
    path = target[0];
    defaultMethod = target[1];
    writes = target[2];
    valid = pick(random, ADMIN_BODIES);
  } else {
    path = pick(random, ["/healthz", "/", "/hooks", "/admin", "/admin/api", "/hooks/events/extra", "/%2e%2e/admin/api/rules"]);
    valid = {};
    auth = random() < 0.5 ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {};
    defaultMethod = "GET";
  }
  const chosen = method ?? defaultMethod;
  const headers = headersFor(random, auth);
  const withBody = chosen !== "GET" && chosen !== "HEAD";
  const b = withBody ? body(random, valid) : undefined;
  const request = new Request(`https://gateway.test${path}`, { method: chosen, headers, body: b?.text });
  const preview = b === undefined ? "" : typeof b.text === "string" ? b.text.slice(0, 120) : `<${b.text.length} bytes>`;
  return {
    request,
    writes: chosen === "GET" || chosen === "HEAD" ? undefined : writes,
    describe: `${chosen} ${path} (${b?.kind ?? "no body"}; content-type ${headers["content-type"]}) ${preview}`,
  };
}

/**
 * What the routes store, as one string: stored events and batches, every destination's configuration and secrets
 * (their lengths and the last change; not the failure counter, which forwarding moves), inline rules and lookup
 * entries, replay jobs and dead letters. A refusal must not change it. One cheap query, run once per request.
 */
const STORED = `
SELECT (SELECT count(*) FROM events) || '|' || (SELECT coalesce(max(id), 0) FROM event_batches) || '|' ||
       (SELECT count(*) || ':' || coalesce(max(updated_at), 0) || ':' ||
               coalesce(sum(length(name || url || event_types || conditions || format || timeout_ms || state || signing_secret ||
                                   coalesce(previous_signing_secret, '') || coalesce(okta_auth_header, '') || coalesce(okta_auth_value, ''))), 0)
        FROM destinations) || '|' ||
       (SELECT count(*) || ':' || coalesce(max(updated_at), 0) || ':' || coalesce(sum(length(definition)), 0) FROM inline_rules) || '|' ||
       (SELECT count(*) || ':' || coalesce(max(updated_at), 0) || ':' || coalesce(sum(length(value)), 0) FROM inline_lookup_entries) || '|' ||
       (SELECT count(*) FROM replay_jobs) || '|' || (SELECT count(*) FROM dead_letters) AS stored`;

async function storedState(): Promise<string> {
  return (await env.DB.prepare(STORED).first<{ stored: string }>())!.stored;
}

let ids = { destination: "", rule: "" };

// The local queue's consumer keeps fanning out what the fuzzer stored after the last test, when the fetch stub may
// be gone: with no destination left, it finds nothing to send (instead of trying the fuzzer's made-up hosts).
afterAll(async () => {
  await env.DB.exec("DELETE FROM destinations");
});

beforeAll(async () => {
  // Kept for the whole file: the local queue's consumer mostly runs after the test, when the isolate is free.
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(null, { status: 204 }));
  const admin = (path: string, b: unknown) =>
    callWorker(
      new Request(`https://gateway.test/admin/api${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(b),
      }),
    );
  const d = await admin("/destinations", ADMIN_BODIES[0]);
  expect(d.status).toBe(201);
  const r = await admin("/rules", ADMIN_BODIES[5]);
  expect(r.status).toBe(201);
  ids = { destination: ((await d.json()) as { id: string }).id, rule: ((await r.json()) as { id: string }).id };
});

describe("every route under a seeded fuzzer", () => {
  it(`${REQUESTS} requests: no 5xx, every error in our format, refusals change nothing`, { timeout: TIME_LIMIT_MS + 60_000 }, async () => {
    const random = prng(SEED);
    const started = Date.now();
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    let stored = await storedState();
    for (; sent < REQUESTS && Date.now() - started < TIME_LIMIT_MS && failures.length < 10; sent++) {
      const { request, writes, describe: what } = nextRequest(random, ids);
      const res = await callWorker(request);
      const text = await res.text();
      const before = stored;
      stored = await storedState();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `request ${sent} (seed ${SEED}): ${what} → ${res.status} ${text.slice(0, 200)}`;
      if (res.status >= 500) failures.push(where);
      else if (res.status >= 400 && request.method !== "HEAD") {
        let code: unknown;
        try {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          code = typeof parsed.error?.message === "string" ? parsed.error.code : undefined;
        } catch {
          code = undefined;
        }
        if (typeof code !== "string") failures.push(`not our error format: ${where}`);
        if (!res.headers.get("content-type")?.startsWith("application/json")) failures.push(`an error not sent as JSON: ${where}`);
        if (stored !== before) failures.push(`a refusal stored something (route writes ${writes ?? "nothing"}): ${where}`);
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBe(REQUESTS);
    // The fuzzer reached past authentication and validation: successes and refusals of several kinds.
    expect([...statuses.keys()].filter((s) => s < 300).length).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(3);
  });
});

// Keep the inline hook type list and the fixtures in step: a new type without a fixture would not be fuzzed.
it("fuzzes every inline hook type", () => {
  expect(new Set(requestFixtures.map((f) => f.type))).toEqual(new Set(INLINE_HOOK_TYPES));
});
