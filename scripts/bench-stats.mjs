#!/usr/bin/env node
// `node scripts/bench-stats.mjs`: what the stats and retention cost in D1 rows, as D1 itself reports them (the
// request/cron log lines' d1RowsRead / d1RowsWritten, `wrangler d1 execute --json` meta for raw SQL), against the
// real Worker under `wrangler dev` with local D1 and Queues. Row counts do not depend on machine load, so these
// figures can be taken on a busy machine; timings are not reported.
//
// Bounded: STATS_BENCH_DELIVERIES (default 150) deliveries of 20 events each, posted one at a time, then a fan-out
// to one receiver on 127.0.0.1, the stats queries, and one retention run over them after their received_at is moved
// 40 days back. (What counting by scanning would read instead — every event of the range — is shown by
// test/integration/stats-api.test.ts; `wrangler d1 execute` does not report rows read.)
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import path from "node:path";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, startGateway } from "../test/e2e/gateway.ts";

const deliveries = Number(process.env.STATS_BENCH_DELIVERIES ?? 150);
const PER_DELIVERY = 20;
const root = path.resolve(import.meta.dirname, "..");
const TYPES = Array.from({ length: 20 }, (_, i) => `bench.type${String(i).padStart(2, "0")}.event`);

let counter = 0;
function logEvent(eventType) {
  counter++;
  return {
    uuid: `stats-bench-${process.pid}-${counter}`,
    published: new Date().toISOString(),
    eventType,
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
/** A 20-event delivery whose events have `distinct` different types. */
function envelope(distinct) {
  return JSON.stringify({
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: "https://bench.okta.com/api/v1/eventHooks/whoBench",
    eventId: crypto.randomUUID(),
    data: { events: Array.from({ length: PER_DELIVERY }, (_, i) => logEvent(TYPES[i % distinct])) },
    eventTime: new Date().toISOString(),
    contentType: "application/json",
  });
}

const lines = (gw, from) =>
  gw
    .output()
    .slice(from)
    .split("\n")
    .flatMap((l) => {
      const at = l.indexOf("{");
      if (at < 0) return [];
      try {
        return [JSON.parse(l.slice(at))];
      } catch {
        return [];
      }
    });

async function adminGet(gw, p) {
  const from = gw.output().length;
  const res = await fetch(`${gw.baseUrl}/admin/api${p}`, { headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  const body = await res.json();
  await new Promise((r) => setTimeout(r, 300));
  const line = lines(gw, from).find((l) => l.msg === "request" && l.route?.startsWith("/admin/api/stats"));
  return { body, rowsRead: line?.d1RowsRead, queries: line?.d1Queries };
}

/** Raw SQL against the gateway's local D1, with D1's meta. */
function execute(gw, sql) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(root, "node_modules", ".bin", "wrangler"),
      ["d1", "execute", "DB", "--local", "--persist-to", gw.persistTo, "--json", "--command", sql],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false", PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.slice(out.indexOf("[")))) : reject(new Error(out))));
  });
}

const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(204).end());
});
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
const gw = await startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true" } });
const results = {};
try {
  const created = await fetch(`${gw.baseUrl}/admin/api/destinations`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    body: JSON.stringify({ name: "bench receiver", url: `http://127.0.0.1:${receiver.address().port}/events`, eventTypes: ["*"] }),
  });
  if (created.status !== 201) throw new Error(`destination: ${created.status}`);

  // Ingest: rows written per event, by how many types a delivery mixes (the rollup writes one row per type).
  results.ingest = {};
  for (const distinct of [1, 5, 20]) {
    const from = gw.output().length;
    const n = Math.max(1, Math.floor(deliveries / 3));
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers: { "content-type": "application/json", authorization: E2E_EVENT_SECRET }, body: envelope(distinct) });
      if (res.status !== 204) throw new Error(`ingest: ${res.status}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    const posts = lines(gw, from).filter((l) => l.msg === "request" && l.route === "/hooks/events");
    const written = posts.reduce((s, l) => s + (l.d1RowsWritten ?? 0), 0);
    results.ingest[`${distinct} type(s) per 20-event delivery`] = { deliveries: posts.length, rowsWrittenPerEvent: +(written / (posts.length * PER_DELIVERY)).toFixed(2) };
  }
  // Forwarding to the one receiver: fan-out rows written per event (queue batch lines), once all are fanned out.
  const fanFrom = 0;
  for (let i = 0; i < 120; i++) {
    const [{ results: left }] = await execute(gw, "SELECT count(*) AS n FROM forward_outbox");
    if (left[0].n === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const queueLines = lines(gw, fanFrom).filter((l) => l.msg === "queue batch");
  const stored = (await execute(gw, "SELECT count(*) AS n FROM events"))[0].results[0].n;
  results.fanOutRowsWrittenPerEvent = +(queueLines.reduce((s, l) => s + (l.d1RowsWritten ?? 0), 0) / stored).toFixed(2);
  results.storedEvents = stored;

  // Stats queries: rows read (the request's log line).
  results.stats = {
    "GET /stats/events (last 24 h, hourly)": await adminGet(gw, "/stats/events"),
    "GET /stats/events (last 30 days, daily)": await adminGet(gw, "/stats/events?bucket=day"),
    "GET /stats/events?type=bench.type01.* (a prefix)": await adminGet(gw, "/stats/events?type=bench.type01.*"),
    "GET /stats/deliveries (last 24 h)": await adminGet(gw, "/stats/deliveries"),
    "GET /stats": await adminGet(gw, "/stats"),
  };
  for (const v of Object.values(results.stats)) delete v.body;
  // Retention: move everything 40 days back, run the hourly cron, read its lines.
  const shift = 40 * 86_400_000;
  await execute(gw, `UPDATE events SET received_at = received_at - ${shift}; UPDATE event_batches SET received_at = received_at - ${shift}`);
  const retFrom = gw.output().length;
  const res = await gw.runScheduled("30 * * * *");
  if (!res.ok) throw new Error(`retention cron: ${res.status}`);
  await new Promise((r) => setTimeout(r, 1000));
  const retention = lines(gw, retFrom).find((l) => l.msg === "retention");
  const cron = lines(gw, retFrom).find((l) => l.msg === "scheduled");
  results.retention = {
    purged: retention?.events,
    rowsWrittenPerPurgedEvent: retention?.events ? +(cron.d1RowsWritten / retention.events).toFixed(2) : null,
    rowsReadPerPurgedEvent: retention?.events ? +(cron.d1RowsRead / retention.events).toFixed(2) : null,
    d1Queries: cron?.d1Queries,
    line: retention,
  };
  results.d1AfterPurge = (await adminGet(gw, "/stats")).body.d1;
} finally {
  await gw.stop();
  receiver.close();
}
console.log(JSON.stringify(results, null, 2));
