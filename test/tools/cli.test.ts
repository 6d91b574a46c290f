/**
 * The admin CLI without a gateway (tools/cli/): each command line becomes exactly the admin API request it should
 * (method, path, query, body, the bearer token from the environment or a file — never from argv), bad usage is
 * exit 2 before any request, the API's refusals are exit 1 with its code and message (a 401 says the token is
 * wrong), no answer is exit 3; jobs are followed until every delivery has an outcome, bounded in time, and Ctrl-C
 * stops following with exit 130; tables and detail blocks render exactly. test/e2e/cli.test.ts runs it against the
 * real Worker.
 */
import { describe, expect, it } from "vitest";
import { colors } from "../../tools/colors.ts";
import type { DryRun, ReplayJob } from "../../tools/cli/api-types.ts";
import { runCli, type CliIo } from "../../tools/cli/cli.ts";
import { apiClient } from "../../tools/cli/client.ts";
import { followJob, isDone, progressSink, type ProgressSink } from "../../tools/cli/follow.ts";
import { cellText, shortTime, table } from "../../tools/cli/table.ts";
import { destinationsTable, dryRunView, eventsTable, inlineCallsTable, inlineStatsView, jobLine } from "../../tools/cli/views.ts";

const TOKEN = "cli-test-token";
const plain = colors(false);

interface Sent {
  origin: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
}

type Answer = { status?: number; body?: unknown; text?: string };

/** A stand-in gateway: answers each request with the next answer (or by `route`), recording what was sent. */
function gateway(route: (sent: Sent, index: number) => Answer = () => ({ body: {} })) {
  const sent: Sent[] = [];
  const fetch = (async (input: URL | RequestInfo, init?: RequestInit) => {
    const url = new URL(String(input));
    const request: Sent = {
      origin: url.origin,
      method: init?.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
      authorization: new Headers(init?.headers).get("authorization"),
    };
    sent.push(request);
    const answer = route(request, sent.length - 1);
    const status = answer.status ?? 200;
    const text = answer.text ?? (status === 204 ? null : JSON.stringify(answer.body ?? {}));
    return new Response(text, { status, headers: { "content-type": answer.text === undefined ? "application/json" : "text/html" } });
  }) as typeof globalThis.fetch;
  return { sent, fetch };
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], options: Partial<CliIo> & { route?: Parameters<typeof gateway>[0]; files?: Record<string, string> } = {}) {
  const gw = gateway(options.route);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    progress: { write: (t: string) => (err.push(t.trimEnd()), true), isTTY: false },
    env: { OKTA_HOOKS_EDGE_TOKEN: TOKEN },
    readFile: (file) => {
      const text = options.files?.[file];
      if (text === undefined) throw Object.assign(new Error("missing"), { code: "ENOENT" });
      return text;
    },
    fetch: gw.fetch,
    signal: new AbortController().signal,
    color: false,
    followIntervalMs: 1,
    ...options,
  };
  const code = await runCli(argv, io);
  return { code, out: out.join("\n"), err: err.join("\n"), sent: gw.sent } satisfies Run & { sent: Sent[] };
}

function job(state: string, progress: Partial<ReplayJob["progress"]> = {}): ReplayJob {
  return {
    id: "job_7",
    kind: "replay",
    state,
    eventUuid: null,
    filter: { type: "user.session.*", since: null, until: null, timeField: null, actor: null, outcome: null, org: null },
    destinationId: "dst_0123456789abcdef0123",
    ratePerSecond: 10,
    progress: { matched: 3, enqueued: 0, skipped: 0, delivered: 0, failed: 0, scanned: 0, ...progress },
    createdAt: "2026-11-24T10:00:00.000Z",
    updatedAt: "2026-11-24T10:00:01.000Z",
    finishedAt: null,
  };
}

const destination = {
  id: "dst_0123456789abcdef0123",
  name: "CRM",
  url: "https://crm.example.com/okta",
  eventTypes: ["user.lifecycle.*"],
  conditions: {},
  format: "standard",
  oktaAuth: null,
  timeoutMs: 10000,
  state: "active",
  consecutiveFailures: 0,
  disabledReason: null,
  previousSecretExpiresAt: null,
  createdAt: "2026-11-24T10:00:00.000Z",
  updatedAt: "2026-11-24T10:00:00.000Z",
};

describe("each command line is the admin API request it names", () => {
  it("destinations create: flags become the body; the token comes from OKTA_HOOKS_EDGE_TOKEN as a bearer token", async () => {
    const r = await run(
      ["destinations", "create", "--name", "CRM", "--endpoint", "https://crm.example.com/okta", "--event-types", "user.lifecycle.*,group.user_membership.add",
        "--outcome-results", "SUCCESS", "--target-types", "User", "--timeout-ms", "5000", "--paused"],
      { route: () => ({ status: 201, body: { ...destination, secret: "whsec_c2VjcmV0" } }) },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.sent).toEqual([
      {
        origin: "http://127.0.0.1:8787",
        method: "POST",
        path: "/admin/api/destinations",
        query: {},
        body: {
          name: "CRM",
          url: "https://crm.example.com/okta",
          eventTypes: ["user.lifecycle.*", "group.user_membership.add"],
          conditions: { outcomeResults: ["SUCCESS"], targetTypes: ["User"] },
          timeoutMs: 5000,
          state: "paused",
        },
        authorization: `Bearer ${TOKEN}`,
      },
    ]);
    expect(r.out).toContain("signing secret: whsec_c2VjcmV0");
    expect(r.out).toContain("Shown this once");
  });

  it("destinations create --from-file, with a flag overriding the file, and an okta auth value read from a file", async () => {
    const r = await run(["destinations", "create", "--from-file", "d.json", "--name", "Legacy", "--okta-auth-value-file", "auth.txt"], {
      files: { "d.json": JSON.stringify({ name: "x", url: "https://legacy.example.com", format: "okta" }), "auth.txt": "Basic dXNlcjpwYXNz\n" },
      route: () => ({ status: 201, body: destination }),
    });
    expect(r.code, r.err).toBe(0);
    expect(r.sent[0]!.body).toEqual({ name: "Legacy", url: "https://legacy.example.com", format: "okta", oktaAuth: { value: "Basic dXNlcjpwYXNz" } });
  });

  it("destinations get, update, pause, resume, rotate-secret, delete", async () => {
    const id = destination.id;
    const calls: Array<[string[], Partial<Sent>]> = [
      [["destinations", "get", id], { method: "GET", path: `/admin/api/destinations/${id}` }],
      [["dst", "update", id, "--state", "disabled", "--endpoint", "https://n.example.com"], { method: "PATCH", body: { url: "https://n.example.com", state: "disabled" } }],
      [["destinations", "pause", id], { method: "PATCH", body: { state: "paused" } }],
      [["destinations", "resume", id], { method: "PATCH", body: { state: "active" } }],
      [["destinations", "rotate-secret", id], { method: "POST", path: `/admin/api/destinations/${id}/rotate-secret`, body: undefined }],
      [["destinations", "rotate-secret", id, "--grace-period", "0"], { method: "POST", body: { gracePeriodSeconds: 0 } }],
      [["destinations", "delete", id], { method: "DELETE", path: `/admin/api/destinations/${id}` }],
    ];
    for (const [argv, expected] of calls) {
      const r = await run(argv, { route: (s) => (s.method === "DELETE" ? { status: 204 } : { body: s.path.endsWith("rotate-secret") ? { id, secret: "whsec_x", previousSecretExpiresAt: null } : destination }) });
      expect(r.code, `${argv.join(" ")}: ${r.err}`).toBe(0);
      expect(r.sent).toHaveLength(1);
      expect(r.sent[0], argv.join(" ")).toMatchObject(expected);
    }
  });

  it("events search: every filter is a query parameter", async () => {
    const r = await run(
      ["events", "search", "--type", "user.session.*", "--since", "2026-11-01T00:00:00Z", "--until", "2026-11-02T00:00:00Z", "--time-field", "received",
        "--actor", "jane@example.com", "--outcome", "FAILURE", "--target", "00u1", "--org", "acme.okta.com", "--forward", "pending,unrouted", "--limit", "10"],
      { route: () => ({ body: { events: [], nextCursor: null } }) },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.sent[0]!.query).toEqual({
      type: "user.session.*",
      since: "2026-11-01T00:00:00Z",
      until: "2026-11-02T00:00:00Z",
      timeField: "received",
      actor: "jane@example.com",
      outcome: "FAILURE",
      target: "00u1",
      org: "acme.okta.com",
      forward: "pending,unrouted",
      limit: "10",
    });
  });

  it("events search --all follows nextCursor to the end (short and empty pages included); one page says how to go on", async () => {
    const event = (uuid: string) => ({ uuid, eventType: "user.session.start", published: null, receivedAt: null, actorId: null, actorAlternateId: null, outcomeResult: "SUCCESS", severity: "INFO", oktaOrg: null, forwardState: "fanned_out" });
    const pages = [
      { events: [event("a")], nextCursor: "30" },
      { events: [], nextCursor: "20" },
      { events: [event("b")], nextCursor: null },
    ];
    const all = await run(["--json", "events", "search", "--all"], { route: (_, i) => ({ body: pages[i] }) });
    expect(all.code).toBe(0);
    expect(all.sent.map((s) => s.query)).toEqual([{ limit: "200" }, { limit: "200", cursor: "30" }, { limit: "200", cursor: "20" }]);
    expect(JSON.parse(all.out)).toEqual({ events: [event("a"), event("b")], nextCursor: null });

    const capped = await run(["events", "search", "--all", "--max-pages", "2"], { route: () => ({ body: { events: [event("x")], nextCursor: "9" } }) });
    expect(capped.sent).toHaveLength(2);
    expect(capped.err).toContain("stopped after 2 pages (--max-pages): --cursor 9");

    const one = await run(["events", "search"], { route: () => ({ body: pages[0] }) });
    expect(one.sent).toHaveLength(1);
    expect(one.err).toContain("--cursor 30 for the next page, or --all");
  });

  it("events get <uuid>", async () => {
    const r = await run(["events", "get", "f1d0b993"], {
      route: () => ({ body: { uuid: "f1d0b993", eventType: "user.session.start", published: null, receivedAt: null, actorId: null, actorAlternateId: null, outcomeResult: null, severity: null, oktaOrg: null, forwardState: "fanned_out", eventHookId: null, envelopeEventId: null, payload: { uuid: "f1d0b993" }, deliveries: [] } }),
    });
    expect(r.sent[0]).toMatchObject({ method: "GET", path: "/admin/api/events/f1d0b993" });
    expect(r.out).toContain("uuid:");
    expect(r.out).not.toContain("Payload");
    const withPayload = await run(["events", "get", "f1d0b993", "--payload"], { route: () => ({ body: { uuid: "f1d0b993", eventType: "t", published: null, receivedAt: null, actorId: null, actorAlternateId: null, outcomeResult: null, severity: null, oktaOrg: null, forwardState: "fanned_out", eventHookId: null, envelopeEventId: null, payload: { uuid: "f1d0b993" }, deliveries: [] } }) });
    expect(withPayload.out).toContain('"uuid": "f1d0b993"');
  });

  it("replay --dry-run: one event or a filter, to one destination, prints the counts", async () => {
    const dry: DryRun = { dryRun: true, events: 2, destinations: [{ destinationId: destination.id, name: "CRM", events: 2, exact: true }], complete: true };
    const one = await run(["replay", "f1d0b993", "--destination", destination.id, "--dry-run"], { route: () => ({ body: dry }) });
    expect(one.code, one.err).toBe(0);
    expect(one.sent[0]).toMatchObject({ method: "POST", path: "/admin/api/replays", body: { eventUuid: "f1d0b993", destinationId: destination.id, dryRun: true } });
    expect(one.out).toContain("2 events match; nothing was sent (dry run).");
    const filter = await run(["replay", "--type", "user.*", "--since", "2026-11-01T00:00:00Z", "--rate", "5", "--dry-run"], { route: () => ({ body: dry }) });
    expect(filter.sent[0]!.body).toEqual({ filter: { type: "user.*", since: "2026-11-01T00:00:00Z" }, ratePerSecond: 5, dryRun: true });
    const every = await run(["replay", "--every-event", "--dry-run"], { route: () => ({ body: dry }) });
    expect(every.sent[0]!.body).toEqual({ filter: {}, dryRun: true });
  });

  it("replay: starts the job and follows it until every delivery has an outcome, a line per change off a terminal", async () => {
    const states = [
      { status: 202, body: job("running", { matched: 3 }) },
      { body: job("running", { matched: 3, enqueued: 2, delivered: 1 }) },
      { body: job("finished", { matched: 3, enqueued: 3, delivered: 2 }) },
      { body: job("finished", { matched: 3, enqueued: 3, delivered: 2 }) },
      { body: job("finished", { matched: 3, enqueued: 3, delivered: 2, failed: 1, scanned: 1 }) },
    ];
    const r = await run(["replay", "--type", "user.session.*"], { route: (_, i) => states[i]! });
    expect(r.code, r.err).toBe(0);
    expect(r.sent.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /admin/api/replays", ...Array(4).fill("GET /admin/api/replays/job_7")]);
    expect(r.err.split("\n")).toEqual([
      "job_7 running: 0/3 enqueued, 0 delivered, 0 failed, 0 skipped, scanned 0%",
      "job_7 running: 2/3 enqueued, 1 delivered, 0 failed, 0 skipped, scanned 0%",
      "job_7 finished: 3/3 enqueued, 2 delivered, 0 failed, 0 skipped, scanned 0%",
      "job_7 finished: 3/3 enqueued, 2 delivered, 1 failed, 0 skipped, scanned 100%",
    ]);
    expect(r.out).toMatch(/state:\s+finished/);
    expect(r.out).toMatch(/failed:\s+1/);
  });

  it("replay --no-follow returns at once; replay status, list and cancel", async () => {
    const started = await run(["replay", "abc", "--no-follow"], { route: () => ({ status: 202, body: job("running") }) });
    expect(started.sent).toHaveLength(1);
    expect(started.out).toContain("replay status job_7 --follow");
    const status = await run(["replay", "status", "job_7"], { route: () => ({ body: job("running") }) });
    expect(status.sent[0]).toMatchObject({ method: "GET", path: "/admin/api/replays/job_7" });
    const list = await run(["replay", "list", "--limit", "5"], { route: () => ({ body: { jobs: [job("finished")], nextCursor: null } }) });
    expect(list.sent[0]).toMatchObject({ path: "/admin/api/replays", query: { limit: "5" } });
    expect(list.out).toContain("job_7");
    const cancel = await run(["replay", "cancel", "job_7"], { route: () => ({ body: job("cancelled") }) });
    expect(cancel.sent[0]).toMatchObject({ method: "POST", path: "/admin/api/replays/job_7/cancel" });
  });

  it("dead-letters list, show, redrive one, redrive --all as a job, delete", async () => {
    const id = destination.id;
    const list = await run(["dead-letters", "list", "--destination", id, "--since", "2026-11-01T00:00:00Z"], { route: () => ({ body: { deadLetters: [], nextCursor: null } }) });
    expect(list.sent[0]).toMatchObject({ path: "/admin/api/dead-letters", query: { destinationId: id, since: "2026-11-01T00:00:00Z" } });
    const one = await run(["dl", "redrive", id, "f1d0b993"], { route: () => ({ body: { redriven: [{ destinationId: id, eventUuid: "f1d0b993" }] } }) });
    expect(one.sent[0]).toMatchObject({ method: "POST", path: `/admin/api/dead-letters/${id}/f1d0b993/redrive` });
    expect(one.out).toContain("Redriven: f1d0b993");
    const all = await run(["dead-letters", "redrive", "fan-out", "--all", "--rate", "5", "--no-follow"], { route: () => ({ status: 202, body: { ...job("running"), kind: "redrive" } }) });
    expect(all.sent[0]).toMatchObject({ method: "POST", path: "/admin/api/dead-letters/redrive", body: { destinationId: "fan-out", ratePerSecond: 5 } });
    const del = await run(["dead-letters", "delete", id, "f1d0b993"], { route: () => ({ status: 204 }) });
    expect(del.sent[0]).toMatchObject({ method: "DELETE", path: `/admin/api/dead-letters/${id}/f1d0b993` });
  });

  it("rules list, create from a JSON file, delete; stats and its subcommands", async () => {
    const rule = { kind: "registration.email-domain", definition: { allow: ["example.com"], errorSummary: "s", fieldMessage: "f" } };
    const created = await run(["rules", "create", "rule.json"], { files: { "rule.json": JSON.stringify(rule) }, route: () => ({ status: 201, body: { ...rule, id: "r1", hookType: "registration", priority: 100, enabled: true } }) });
    expect(created.sent[0]).toMatchObject({ method: "POST", path: "/admin/api/rules", body: rule });
    const list = await run(["rules", "list", "--type", "token"], { route: () => ({ body: { rules: [] } }) });
    expect(list.sent[0]).toMatchObject({ path: "/admin/api/rules", query: { type: "token" } });
    const del = await run(["rules", "delete", "r1"], { route: () => ({ status: 204 }) });
    expect(del.sent[0]).toMatchObject({ method: "DELETE", path: "/admin/api/rules/r1" });
    const deliveries = await run(["stats", "deliveries", "--destination", destination.id], { route: () => ({ body: { since: "s", until: "u", destinations: [] } }) });
    expect(deliveries.sent[0]).toMatchObject({ path: "/admin/api/stats/deliveries", query: { destinationId: destination.id } });
    const events = await run(["stats", "events", "--bucket", "day", "--type", "user.*"], { route: () => ({ body: { bucket: "day", since: "s", until: "u", total: 0, eventTypes: [] } }) });
    expect(events.sent[0]).toMatchObject({ path: "/admin/api/stats/events", query: { bucket: "day", type: "user.*" } });
  });

  it("inline-calls: every filter as the API's parameter, --all follows nextCursor, a short page says more may match; stats inline", async () => {
    const call = { type: "token", receivedAt: "2026-12-01T10:00:00.123Z", requestType: null, oktaRequestId: "r1", eventId: null, decision: "empty", decidedBy: "fallback", fallbackReason: "deadline", commands: [], status: 204, latencyMs: 2001 };
    const one = await run(
      ["inline-calls", "--type", "token", "--decision", "DENY", "--decided-by", "rules:*", "--fallback-reason", "deadline", "--since", "2026-12-01T00:00:00Z", "--until", "2026-12-02T00:00:00Z", "--limit", "5"],
      { route: () => ({ body: { calls: [call], nextCursor: "1.2.3" } }) },
    );
    expect(one.code).toBe(0);
    expect(one.sent[0]).toMatchObject({
      method: "GET",
      path: "/admin/api/inline-calls",
      query: { type: "token", decision: "DENY", decidedBy: "rules:*", fallbackReason: "deadline", since: "2026-12-01T00:00:00Z", until: "2026-12-02T00:00:00Z", limit: "5" },
    });
    expect(one.err).toMatch(/1 calls; more may match: --cursor 1\.2\.3 for the next page, or --all/);
    const all = await run(["--json", "inline-calls", "--all"], { route: (_s, i) => ({ body: { calls: i < 2 ? [call] : [], nextCursor: i < 2 ? `c${i}` : null } }) });
    expect(all.sent.map((s) => s.query.cursor)).toEqual([undefined, "c0", "c1"]);
    expect(all.sent[0]!.query.limit).toBe("200");
    expect(JSON.parse(all.out)).toEqual({ calls: [call, call], nextCursor: null });
    const bad = await run(["inline-calls", "--limit", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.sent).toEqual([]);
    const stats = await run(["stats", "inline", "--type", "saml", "--since", "2026-12-01T00:00:00Z"], { route: () => ({ body: { since: "2026-12-01T00:00:00.000Z", until: "2026-12-02T00:00:00.000Z", types: [] } }) });
    expect(stats.sent[0]).toMatchObject({ path: "/admin/api/stats/inline", query: { type: "saml", since: "2026-12-01T00:00:00Z" } });
  });

  it("renders inline hook calls and their stats exactly", () => {
    const calls = [
      { type: "registration", receivedAt: "2026-12-01T10:00:01.000Z", requestType: null, oktaRequestId: "r2", eventId: null, decision: "DENY", decidedBy: "rules:abc", fallbackReason: null, commands: [], status: 200, latencyMs: 4 },
      { type: "token", receivedAt: "2026-12-01T10:00:00.123Z", requestType: null, oktaRequestId: null, eventId: null, decision: "empty", decidedBy: "fallback", fallbackReason: "deadline", commands: [], status: 204, latencyMs: 2001 },
    ];
    expect(inlineCallsTable(calls, plain)).toBe(
      [
        "RECEIVED              TYPE          DECISION  DECIDED BY  FALLBACK  STATUS    MS  OKTA REQUEST ID",
        "2026-12-01 10:00:01Z  registration  DENY      rules:abc   -            200     4  r2",
        "2026-12-01 10:00:00Z  token         empty     fallback    deadline     204  2001  -",
      ].join("\n"),
    );
    expect(inlineCallsTable([], plain)).toBe("No inline hook calls.");
    const figures = (type: string, complete: boolean) => ({
      type,
      calls: 3,
      complete,
      oldestCall: "2026-12-01T09:00:00.000Z",
      decisions: [{ decision: "empty", count: 2 }, { decision: "error", count: 1 }],
      decidedBy: [{ group: "default", count: 2 }, { group: "fallback", count: 1 }],
      fallbacks: [{ reason: "deadline", count: 1 }],
      latencyMs: { p50: 3, p95: 2001, p99: 2001, sample: 3 },
    });
    const quiet = { type: "saml", calls: 0, complete: true, oldestCall: null, decisions: [], decidedBy: [], fallbacks: [], latencyMs: null };
    expect(inlineStatsView({ since: "2026-12-01T00:00:00.000Z", until: "2026-12-02T00:00:00.000Z", types: [figures("token", false), quiet] }, plain)).toBe(
      [
        "Inline hook calls from 2026-12-01 00:00:00Z to 2026-12-02 00:00:00Z",
        "TYPE   CALLS  DECISIONS         DECIDED BY             FALLBACKS   P50 MS  P95 MS  P99 MS",
        "token     3+  empty 2, error 1  default 2, fallback 1  deadline 1       3    2001    2001",
        "saml       0  -                 -                      -                -       -       -",
        "+ the newest calls only (token since 2026-12-01 09:00:00Z): narrow --since/--until for all of them",
      ].join("\n"),
    );
  });
});

describe("usage problems are exit 2, before any request", () => {
  const cases: Array<[string, string[], Partial<CliIo>, RegExp]> = [
    ["no token", ["stats"], { env: {} }, /no admin token: set OKTA_HOOKS_EDGE_TOKEN/],
    ["a token on the command line is not an option", ["--token", "abc", "stats"], {}, /unknown option '--token'/],
    ["an empty token file", ["--token-file", "empty", "stats"], {}, /--token-file: empty is empty/],
    ["a token file that cannot be read", ["--token-file", "nowhere", "stats"], {}, /cannot read nowhere \(ENOENT\)/],
    ["the whole ADMIN_TOKEN list as the token", ["stats"], { env: { OKTA_HOOKS_EDGE_TOKEN: "a,b" } }, /one token of ADMIN_TOKEN/],
    ["http:// to another host", ["--url", "http://gw.example.com", "stats"], {}, /would send the admin token in clear/],
    ["not a URL", ["--url", "gateway", "stats"], {}, /is not a URL/],
    ["an unknown command", ["destination", "list"], {}, /unknown command 'destination'/],
    ["a bad number", ["events", "search", "--limit", "500"], {}, /must be a whole number from 1 to 200/],
    ["replay with nothing to replay", ["replay"], {}, /say what to replay/],
    ["replay of an event and a filter", ["replay", "abc", "--type", "x"], {}, /not both/],
    ["redrive with neither uuid nor --all", ["dead-letters", "redrive", "fan-out"], {}, /an event uuid, or --all/],
    ["create without a url", ["destinations", "create", "--name", "x"], {}, /needs --name and --endpoint/],
    ["an okta auth header without its value", ["destinations", "update", "dst_x", "--okta-auth-header", "x-key"], {}, /needs --okta-auth-value-file/],
    ["a rule file that is not JSON", ["rules", "create", "bad.json"], {}, /bad.json is not JSON/],
  ];
  for (const [what, argv, io, message] of cases) {
    it(what, async () => {
      const r = await run(argv, { ...io, files: { empty: "  \n", "bad.json": "{" } });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.sent).toEqual([]);
    });
  }

  it("--url is the gateway's wherever it stands, and a destination's URL is --endpoint: the token never goes to a receiver", async () => {
    const r = await run(["destinations", "create", "--name", "x", "--endpoint", "https://receiver.example.com", "--url", "https://gw.example.com"], {
      route: () => ({ status: 201, body: destination }),
    });
    expect(r.code, r.err).toBe(0);
    expect(r.sent.map((s) => s.origin)).toEqual(["https://gw.example.com"]);
    expect(r.sent[0]!.body).toEqual({ name: "x", url: "https://receiver.example.com" });
  });

  it("reads the token from --token-file, trimmed; --allow-http lets http:// reach another host", async () => {
    const r = await run(["--token-file", "t", "--url", "http://10.0.0.5:8787/", "--allow-http", "stats"], {
      files: { t: "from-file\n" },
      route: () => ({ body: { d1: { sizeBytes: null, limitBytes: 1, usedPercent: null }, events: { oldestReceivedAt: null, newestReceivedAt: null, receivedLast24Hours: 0 }, outbox: { batches: 0, oldestCreatedAt: null }, retention: { eventDays: 30, deadLetterDays: 30, inlineCallDays: 7, statsDays: 400, archive: false } } }),
    });
    expect(r.code, r.err).toBe(0);
    expect(r.sent[0]).toMatchObject({ path: "/admin/api/stats", authorization: "Bearer from-file" });
  });

  it("--help is exit 0 and lists the exit codes", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Exit codes: 0 done, 1 the API refused");
  });
});

describe("refusals are exit 1, no answer exit 3", () => {
  it("a 401 says the token is wrong", async () => {
    const r = await run(["destinations", "list"], { route: () => ({ status: 401, body: { error: { code: "unauthorized", message: "Missing or invalid admin token." } } }) });
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: the gateway refused the admin token (401 unauthorized): check OKTA_HOOKS_EDGE_TOKEN or --token-file");
  });

  it("other refusals print the API's code and message; with --json the error body too", async () => {
    const body = { error: { code: "invalid_query", message: "limit: must be an integer from 1 to 200" } };
    const r = await run(["--json", "events", "search", "--type", "bad type"], { route: () => ({ status: 400, body }) });
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: invalid_query (HTTP 400): limit: must be an integer from 1 to 200");
    expect(JSON.parse(r.out)).toEqual({ ...body, status: 400 });
  });

  it("an answer that is not the API's (a proxy's HTML page) is a refusal that says so", async () => {
    const r = await run(["stats"], { route: () => ({ status: 502, text: "<html>Bad gateway</html>" }) });
    expect(r.code).toBe(1);
    expect(r.err).toContain("HTTP 502 from http://127.0.0.1:8787 without the API's error body: is --url a gateway?");
  });

  it("no answer (connection refused, a timeout) is exit 3", async () => {
    const refused = (async () => {
      throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    }) as typeof fetch;
    const r = await run(["--url", "https://gw.example.com", "stats"], { fetch: refused });
    expect(r.code).toBe(3);
    expect(r.err).toContain("error: cannot reach https://gw.example.com: ECONNREFUSED");
    const slow = apiClient({ baseUrl: "https://gw.example.com", token: "t", timeoutMs: 5, fetch: ((_: unknown, init: RequestInit) => new Promise((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason)))) as unknown as typeof fetch });
    await expect(slow.call("GET", "/stats")).rejects.toThrow("cannot reach https://gw.example.com: no answer within 0 s");
  });
});

describe("following a job", () => {
  const sink = (): ProgressSink & { seen: string[] } => {
    const seen: string[] = [];
    return { seen, update: (j) => seen.push(j.state), stop: () => {} };
  };

  it("is done only when the job stopped selecting and every delivery it enqueued has an outcome", () => {
    expect(isDone(job("running", { enqueued: 0 }))).toBe(false);
    expect(isDone(job("finished", { enqueued: 2, delivered: 1 }))).toBe(false);
    expect(isDone(job("finished", { enqueued: 2, delivered: 1, failed: 1 }))).toBe(true);
    expect(isDone(job("cancelled", { enqueued: 1, delivered: 1 }))).toBe(true);
    expect(isDone(job("finished", { matched: 2, skipped: 2 }))).toBe(true);
  });

  it("gives up at its timeout (the job goes on), after a bounded number of polls", async () => {
    let clock = 0;
    let polls = 0;
    const api = { call: async () => (polls++, (clock += 400), job("running")) } as never;
    const result = await followJob(api, job("running"), { sink: sink(), signal: new AbortController().signal, intervalMs: 1, timeoutMs: 1000, now: () => clock });
    expect(result.outcome).toBe("timeout");
    expect(polls).toBe(3);
  });

  it("stops at once on Ctrl-C; the CLI says how to see or cancel the job and exits 130", async () => {
    const interrupt = new AbortController();
    const r = await run(["replay", "--every-event"], {
      signal: interrupt.signal,
      route: (_, i) => {
        if (i === 2) interrupt.abort();
        return { status: i === 0 ? 202 : 200, body: job("running") };
      },
    });
    expect(r.code).toBe(130);
    expect(r.sent).toHaveLength(3);
    expect(r.err).toContain("Stopped following; job_7 keeps running. Its progress: okta-hooks-edge replay status job_7; to stop it: okta-hooks-edge replay cancel job_7");
  });

  it("draws a bar on a terminal, and prints a line only when something changed elsewhere", () => {
    const written: string[] = [];
    const bar = progressSink({ write: (t) => (written.push(t), true), isTTY: true });
    bar.update(job("running", { matched: 4, enqueued: 2, delivered: 1 }));
    bar.update(job("finished", { matched: 4, enqueued: 4, delivered: 4 }));
    bar.stop();
    expect(written.join("")).toMatch(/job_7 .* 4\/4 settled \| enqueued 4 · delivered 4 · failed 0 · skipped 0 \| finished/);
    const lines: string[] = [];
    const plainSink = progressSink({ write: (t) => (lines.push(t), true), isTTY: false });
    for (const state of ["running", "running", "finished"]) plainSink.update(job(state));
    expect(lines).toEqual([`${jobLine(job("running"))}\n`, `${jobLine(job("finished"))}\n`]);
  });
});

describe("human output", () => {
  it("tables pad to the widest cell, show missing values as -, cut long ones, right-align numbers", () => {
    const rows = [
      { a: "x", n: 5, s: null },
      { a: "longer", n: 12345, s: "a".repeat(30) },
    ];
    const text = table(rows, [
      { header: "NAME", value: (r) => r.a },
      { header: "N", value: (r) => r.n, align: "right" },
      { header: "S", value: (r) => r.s, max: 10 },
    ], plain);
    expect(text).toBe(["NAME        N  S", "x           5  -", `longer  12345  ${"a".repeat(9)}…`].join("\n"));
    expect(cellText("a\nb")).toBe("a b");
    expect(shortTime("2026-11-24T10:00:00.123Z")).toBe("2026-11-24 10:00:00Z");
    expect(shortTime(null)).toBeNull();
  });

  it("destinations, events and a dry run render as tables", () => {
    expect(destinationsTable([destination], plain)).toBe(
      [
        "ID                        NAME  STATE   FORMAT    EVENT TYPES       FAILURES  URL",
        "dst_0123456789abcdef0123  CRM   active  standard  user.lifecycle.*         0  https://crm.example.com/okta",
      ].join("\n"),
    );
    expect(destinationsTable([], plain)).toBe("No destinations.");
    const events = eventsTable(
      [{ uuid: "u1", eventType: "user.session.start", published: "2026-11-24T10:00:00.000Z", receivedAt: null, actorId: "00u1", actorAlternateId: null, outcomeResult: "SUCCESS", severity: "INFO", oktaOrg: null, forwardState: "unrouted" }],
      plain,
    );
    expect(events.split("\n")[1]).toBe("2026-11-24 10:00:00Z  user.session.start  SUCCESS  00u1   unrouted  u1");
    const dry = dryRunView({ dryRun: true, events: 1, destinations: [{ destinationId: "dst_1", name: "CRM", events: 1, exact: false }], complete: false }, plain);
    expect(dry).toContain("1 event matches; nothing was sent (dry run).");
    expect(dry).toContain("newest 1,000,000 events");
    expect(dry).toContain("dst_1        CRM       ≤1");
  });

  it("never passes a control character from the gateway's data to the terminal: an Okta event's fields can hold anything", async () => {
    // A failed sign-in's actor.alternateId is what was typed as the username; escape sequences in it (a window
    // title set, a screen cleared, a hyperlink) must not reach the operator's terminal. C1 controls (U+009B is a
    // CSI of its own) go through JSON.stringify unescaped, so the JSON output escapes them too.
    const hostile = "x\u001b]0;owned\u0007\u001b[2J\u009b31m\u007f";
    const event = {
      uuid: "f1d0b993", eventType: "user.session.start", published: "2026-11-24T10:00:00.000Z", receivedAt: null, actorId: "00u1",
      actorAlternateId: hostile, outcomeResult: "FAILURE", severity: "INFO", oktaOrg: hostile, forwardState: "fanned_out",
      eventHookId: null, envelopeEventId: null, payload: { uuid: "f1d0b993", actor: { alternateId: hostile } }, deliveries: [],
    };
    const outputs = [
      await run(["events", "search"], { route: () => ({ body: { events: [event], nextCursor: null } }) }),
      await run(["events", "get", "f1d0b993", "--payload"], { route: () => ({ body: event }) }),
      await run(["--json", "events", "get", "f1d0b993"], { route: () => ({ body: event }) }),
      await run(["destinations", "list"], { route: () => ({ body: { destinations: [{ ...destination, name: hostile }] } }) }),
    ];
    for (const r of outputs) {
      expect(r.code, r.err).toBe(0);
      // eslint-disable-next-line no-control-regex
      expect(r.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(r.out).toContain("x\\u001b]0;owned");
    }
    // The JSON output is still the same data.
    expect((JSON.parse(outputs[2]!.out) as typeof event).actorAlternateId).toBe(hostile);
  });

  it("colours only when asked, and never inside the width count", () => {
    const coloured = destinationsTable([destination], colors(true));
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[\d+m/g, "")).toBe(destinationsTable([destination], plain));
    expect(coloured).not.toBe(destinationsTable([destination], plain));
  });
});
