#!/usr/bin/env node
// `npm run bench`: load on the real Worker under `wrangler dev` (local D1 and Queues), from a second process on
// 127.0.0.1, as Okta would send it. Bounded: every scenario runs BENCH_SECONDS (default 8) with BENCH_CONNECTIONS
// (default 8) connections. Prints median and tail latency and throughput per scenario.
//
// Figures from this are for comparing changes on one machine, not absolute: local D1 is SQLite on this disk, and
// wrangler dev adds its own proxy hop. Quote medians; run twice on a shared machine.
import autocannon from "autocannon";
import { E2E_EVENT_SECRET, startGateway } from "../test/e2e/gateway.ts";

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
const duplicate = envelope(1);
const scenarios = [
  { name: "GET verification", method: "GET", headers: { ...headers, "x-okta-verification-challenge": "bench" } },
  { name: "POST 1 new event", method: "POST", headers, body: () => envelope(1), events: 1 },
  { name: "POST redelivery (duplicate)", method: "POST", headers, body: () => duplicate, events: 1 },
  { name: "POST 100 new events", method: "POST", headers, body: () => envelope(100), events: 100 },
];

function run(gw, scenario) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${gw.baseUrl}/hooks/events`,
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

const gw = await startGateway();
try {
  await run(gw, { ...scenarios[1], name: "warm-up" });
  const rows = [];
  for (const scenario of scenarios) {
    const r = await run(gw, scenario);
    const ok = r["2xx"];
    rows.push({
      scenario: scenario.name,
      "p50 ms": r.latency.p50,
      "p90 ms": r.latency.p90,
      "p99 ms": r.latency.p99,
      "req/s": Math.round(r.requests.average),
      "events/s": scenario.events ? Math.round((ok / seconds) * scenario.events) : "",
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    });
  }
  console.log(`\nokta-hooks-edge bench — wrangler dev, ${connections} connections, ${seconds} s per scenario, node ${process.version}`);
  console.table(rows);
  const stored = await gw.query("SELECT count(*) AS n FROM events");
  console.log(`events stored: ${stored[0]?.n}`);
} finally {
  await gw.stop();
}
