#!/usr/bin/env node
// `npm run bench`: load on the real Worker under `wrangler dev` (local D1 and Queues), from a second process on
// 127.0.0.1, as Okta would send it. Bounded: every scenario runs BENCH_SECONDS (default 8) with BENCH_CONNECTIONS
// (default 8) connections. Prints median and tail latency and throughput per scenario.
//
// Figures from this are for comparing changes on one machine, not absolute: local D1 is SQLite on this disk, and
// wrangler dev adds its own proxy hop. So every HTTP scenario also runs, right after, against a bare Worker
// (bench/bare-worker.js: reads the body, answers a constant) under the same wrangler and workerd, and the table
// quotes the gateway as a ratio of it. Quote medians and ratios; run twice on a shared machine.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import autocannon from "autocannon";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, E2E_INLINE_SECRET, freePort, startGateway } from "../test/e2e/gateway.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);

let counter = 0;
function logEvent() {
  counter++;
  return {
    uuid: `bench-${process.pid}-${counter}`,
    published: new Date().toISOString(),
    eventType: "user.session.start",
    version: "0",
    displayMessage: "User login to Okta",
    severity: "INFO",
    client: { ipAddress: "203.0.113.7", userAgent: { rawUserAgent: "Mozilla/5.0", os: "Mac OS X", browser: "CHROME" } },
    actor: { id: "00uBenchUser", type: "User", alternateId: "bench@example.com", displayName: "Bench User" },
    outcome: { result: "SUCCESS", reason: null },
    target: [{ id: "0oaBenchApp", type: "AppInstance", alternateId: "Bench", displayName: "Bench" }],
    transaction: { type: "WEB", id: `tx${counter}`, detail: {} },
    debugContext: { debugData: { requestUri: "/idp/idx/identify" } },
    legacyEventType: "core.user_auth.login_success",
    authenticationContext: { authenticationStep: 0, externalSessionId: "idx123" },
    securityContext: {},
  };
}
function envelope(n) {
  return JSON.stringify({
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: "https://bench.okta.com/api/v1/eventHooks/whoBench",
    eventId: crypto.randomUUID(),
    data: { events: Array.from({ length: n }, logEvent) },
    eventTime: new Date().toISOString(),
    contentType: "application/json",
  });
}

const headers = { "content-type": "application/json", authorization: E2E_EVENT_SECRET };
const inlineHeaders = { "content-type": "application/json", authorization: E2E_INLINE_SECRET };
const fixture = (name) => readFileSync(new URL(`../test/fixtures/okta/${name}`, import.meta.url), "utf8");
const duplicate = envelope(1);
const tokenRequest = fixture("token-hook.request.json");
const registrationRequest = fixture("registration-hook.request.ssr.json");
const scenarios = [
  { name: "GET verification", path: "/hooks/events", method: "GET", headers: { ...headers, "x-okta-verification-challenge": "bench" } },
  // Inline hooks before the event load: locally the forward queue's consumer shares the Worker's thread, and the
  // fan-out backlog the event scenarios leave behind would be measured too.
  { name: "inline token, 2 claim rules", path: "/hooks/inline/token", method: "POST", headers: inlineHeaders, body: () => tokenRequest },
  { name: "inline registration, domain rule", path: "/hooks/inline/registration", method: "POST", headers: inlineHeaders, body: () => registrationRequest },
  { name: "POST 1 new event", path: "/hooks/events", method: "POST", headers, body: () => envelope(1), events: 1 },
  { name: "POST redelivery (duplicate)", path: "/hooks/events", method: "POST", headers, body: () => duplicate, events: 1 },
  { name: "POST 100 new events", path: "/hooks/events", method: "POST", headers, body: () => envelope(100), events: 100 },
];

async function admin(gw, path, body) {
  const res = await fetch(`${gw.baseUrl}/admin/api${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * Forwarding latency: single-event deliveries posted one at a time (a bounded count), each timed from the POST to
 * its arrival at a receiver on 127.0.0.1. Includes the queue's batch wait (max_batch_timeout) and fan-out.
 */
let forwardingCost;

async function forwardingLatency(gw, count) {
  const sentAt = new Map();
  const latencies = [];
  let done;
  const allArrived = new Promise((resolve) => (done = resolve));
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const uuid = JSON.parse(body).data.uuid;
      if (sentAt.has(uuid) && !latencies.some((l) => l.uuid === uuid)) latencies.push({ uuid, ms: performance.now() - sentAt.get(uuid) });
      res.writeHead(204).end();
      if (latencies.length === count) done();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const { port } = receiver.address();
  const destination = await admin(gw, "/destinations", { name: "bench receiver", url: `http://127.0.0.1:${port}/events`, eventTypes: ["user.session.start"] });
  const logFrom = gw.output().length;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const body = envelope(1);
    sentAt.set(JSON.parse(body).data.events[0].uuid, performance.now());
    await fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers, body });
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.race([allArrived, new Promise((r) => setTimeout(r, 60_000))]);
  // D1's own counts for this phase: the event POSTs' lines and the queue batches' lines (fan-out and deliveries).
  await new Promise((r) => setTimeout(r, 3_000));
  let written = 0;
  let read = 0;
  let queueOps = 0;
  for (const line of gw.output().slice(logFrom).split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const l = JSON.parse(line);
      if ((l.msg === "request" && l.route === "/hooks/events") || l.msg === "queue batch") {
        written += l.d1RowsWritten ?? 0;
        read += l.d1RowsRead ?? 0;
      }
      if (l.msg === "queue batch") queueOps += l.messages;
    } catch {
      // a line that only looks like JSON
    }
  }
  forwardingCost = { events: count, rowsWrittenPerEvent: Math.round((written / count) * 10) / 10, rowsReadPerEvent: Math.round((read / count) * 10) / 10, messagesPerEvent: Math.round((queueOps / count) * 10) / 10 };
  receiver.close();
  // The load scenarios after this one must not fan out to a receiver that is gone (retries would load the machine).
  await fetch(`${gw.baseUrl}/admin/api/destinations/${destination.id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
  });
  const ms = latencies.map((l) => l.ms).sort((a, b) => a - b);
  const at = (q) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN);
  return { scenario: `forward: POST → receiver (${count} events)`, "p50 ms": at(0.5), "p99 ms": at(0.99), "req/s": "", "bare req/s": "", "× bare": "", "bare p50/p99": "", "events/s": Math.round((ms.length / (performance.now() - started)) * 1000), non2xx: "", errors: count - ms.length };
}

function run(gw, scenario) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${gw.baseUrl}${scenario.path}`,
        connections,
        duration: seconds,
        method: scenario.method,
        headers: scenario.headers,
        requests: [
          {
            setupRequest(req) {
              if (scenario.body) req.body = scenario.body();
              return req;
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

/** The bare baseline Worker under `wrangler dev`, on a free port of 127.0.0.1. */
async function startBare() {
  const root = path.resolve(import.meta.dirname, "..");
  const port = await freePort();
  const child = spawn(
    path.join(root, "node_modules", ".bin", "wrangler"),
    ["dev", "--config", "bench/bare-worker.toml", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false"],
    {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` },
      stdio: "ignore",
      detached: true,
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(baseUrl, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    baseUrl,
    stop: () => {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    },
  };
}

const bare = await startBare();
const gw = await startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1" } });
try {
  // Inline hook rules the scenarios exercise (cached in the isolate after the first call).
  await admin(gw, "/rules", { kind: "token.claim", definition: { token: "access", claim: "department", value: { from: "static", value: "engineering" } } });
  await admin(gw, "/rules", { kind: "token.claim", definition: { token: "identity", claim: "employee_type", value: { from: "profile", attribute: "locale" } } });
  await admin(gw, "/rules", { kind: "registration.email-domain", definition: { allow: ["example.com"], errorSummary: "Use your work email.", fieldMessage: "Only example.com addresses can register." } });
  // First, while the forward queue is empty: the load scenarios below leave a backlog of fan-outs behind them.
  const forwarding = await forwardingLatency(gw, Number(process.env.BENCH_FORWARD_EVENTS ?? 100));
  await run(gw, { ...scenarios[0], name: "warm-up" });
  const rows = [];
  await run(bare, { ...scenarios[0], name: "warm-up" });
  for (const scenario of scenarios) {
    const r = await run(gw, scenario);
    const b = await run(bare, scenario);
    const ok = r["2xx"];
    rows.push({
      scenario: scenario.name,
      "p50 ms": r.latency.p50,
      "p99 ms": r.latency.p99,
      "req/s": Math.round(r.requests.average),
      "bare req/s": Math.round(b.requests.average),
      "× bare": Math.round((r.requests.average / b.requests.average) * 100) / 100,
      "bare p50/p99": `${b.latency.p50}/${b.latency.p99}`,
      "events/s": scenario.events ? Math.round((ok / seconds) * scenario.events) : "",
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    });
  }
  rows.push(forwarding);
  console.log(`\nokta-hooks-edge bench — wrangler dev, ${connections} connections, ${seconds} s per scenario, node ${process.version}`);
  console.table(rows);
  // Time spent inside the Worker (the `ms` of each request's log line), without wrangler dev's proxy hop.
  // And what D1 says each request cost (the log line's d1RowsRead / d1RowsWritten, index entries included).
  const inWorker = new Map();
  for (const line of gw.output().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const l = JSON.parse(line);
      if (l.msg !== "request" || typeof l.ms !== "number") continue;
      const key = `${l.method} ${l.route}`;
      if (!inWorker.has(key)) inWorker.set(key, { ms: [], read: 0, written: 0, stored: 0 });
      const entry = inWorker.get(key);
      entry.ms.push(l.ms);
      entry.read += l.d1RowsRead ?? 0;
      entry.written += l.d1RowsWritten ?? 0;
      entry.stored += l.stored ?? 0;
    } catch {
      // a line that only looks like JSON
    }
  }
  const inWorkerRows = [...inWorker].map(([route, { ms, read, written, stored }]) => {
    ms.sort((a, b) => a - b);
    const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
    const per = (n, d) => (d > 0 ? Math.round((n / d) * 10) / 10 : "");
    return {
      route,
      requests: ms.length,
      "p50 ms": at(0.5),
      "p99 ms": at(0.99),
      "D1 rows read / req": per(read, ms.length),
      "D1 rows written / req": per(written, ms.length),
      "D1 rows written / stored event": per(written, stored),
    };
  });
  console.log("\nInside the Worker per request (log line `ms`, and D1's own row counts; work after the answer excluded):");
  console.table(inWorkerRows);
  console.log(
    `\nForwarding ${forwardingCost.events} events to one destination, as D1 reports it (ingest + queue batches; the ` +
      `route's after-answer 'enqueued' mark not included): ${forwardingCost.rowsWrittenPerEvent} rows written and ` +
      `${forwardingCost.rowsReadPerEvent} rows read per event; ${forwardingCost.messagesPerEvent} queue messages consumed per event.`,
  );
  const stored = await gw.query("SELECT count(*) AS n FROM events");
  console.log(`events stored: ${stored[0]?.n}`);
} finally {
  await gw.stop();
  bare.stop();
}
