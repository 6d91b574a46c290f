#!/usr/bin/env node
// `npm run bench`: the real Worker under `wrangler dev` (local D1 and Queues), loaded from a second process on
// 127.0.0.1 as Okta would load it, side by side with a bare Worker under the same wrangler and workerd. Writes
// bench/results/latest.{json,md} and throughput.svg, and prints the Markdown.
//
// Sections (BENCH_SECTIONS, default all): http (each scenario against the gateway and the bare Workers, alternating,
// BENCH_ROUNDS rounds of BENCH_SECONDS with BENCH_CONNECTIONS; event POSTs also against bench/bare-worker-d1.js),
// serial (the hook routes one request at a time: in-Worker time with nothing queued), forwarding (D1 rows and queue operations per
// forwarded event, throughput to 1 and 5 destinations, POST → receiver latency under a trickle for each
// max_batch_timeout in BENCH_BATCH_TIMEOUTS; BENCH_SCENARIOS picks scenarios by id), storage (D1 bytes per event on Okta's examples and on synthesized
// 2-4 KB events). Every phase is bounded in count and time.
//
// Figures from this machine compare changes, not absolute capacity: quote the ratio to the bare Worker from the same
// run, and the median of rounds; the machine is shared and noisy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGateway } from "../test/e2e/gateway.ts";
import { forwardingCostPhase, forwardingThroughput, startReceiver, trickleLatency } from "../bench/forwarding.mjs";
import { cpuMsOfGroup, load, processGroupOf, startBare } from "../bench/load.mjs";
import { logLines, median, requestCost } from "../bench/log-lines.mjs";
import { writeRun } from "../bench/report.mjs";
import { growth, snapshot, storeAll } from "../bench/storage.mjs";
import { scenarios, seedInlineRules } from "../bench/scenarios.mjs";
import { seeded, syntheticEvents } from "../bench/synthetic-events.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const sections = new Set((process.env.BENCH_SECTIONS ?? "http,serial,forwarding,storage").split(","));
const onlyScenarios = (process.env.BENCH_SCENARIOS ?? "").split(",").filter(Boolean);
const batchTimeouts = (process.env.BENCH_BATCH_TIMEOUTS ?? "").split(",").filter(Boolean).map(Number);
const GATEWAY_VARS = { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1" };

const fixture = (name) => readFileSync(path.join(ROOT, "test/fixtures/okta", name), "utf8");
const nextEvent = syntheticEvents({ seed: 43 });
const SCENARIOS = scenarios({ seed: 42 });

/** One load run on `target`, with the CPU its whole process group (wrangler's Node and workerd) spent per request. */
async function measuredLoad(target, scenario, concurrency = connections) {
  const before = cpuMsOfGroup(target.group);
  const result = await load(target.baseUrl, scenario, { seconds, connections: concurrency });
  // Work after the answers (waitUntil: the inline audit, the forward queue's send) belongs to these requests too.
  await new Promise((r) => setTimeout(r, 1_000));
  return { ...result, cpuMsPerRequest: (cpuMsOfGroup(target.group) - before) / Math.max(1, result.requests.total) };
}

/** An event POST: the scenarios the bare+D1 Worker (bench/bare-worker-d1.js) is also measured on. */
const isIngest = (scenario) => scenario.method === "POST" && scenario.path === "/hooks/events";

async function httpSection(gw, bare, bareLogging, bareD1) {
  for (const target of [gw, bare, bareLogging, bareD1]) target.group = processGroupOf(new URL(target.baseUrl).port);
  const warm = SCENARIOS[0];
  for (const target of [gw, bare, bareLogging]) await load(target.baseUrl, warm, { seconds: 2, connections });
  const results = [];
  for (const scenario of SCENARIOS.filter((s) => onlyScenarios.length === 0 || onlyScenarios.includes(s.id))) {
    const gatewayRuns = [];
    const bareRuns = [];
    const loggingRuns = [];
    const d1Runs = [];
    const from = gw.output().length;
    const loggingFrom = bareLogging.output().length;
    const d1From = bareD1.output().length;
    for (let round = 0; round < rounds; round++) {
      // Rotate who goes first, so a machine getting busier or quieter does not favour any side.
      const order = [[gw, gatewayRuns], [bare, bareRuns], [bareLogging, loggingRuns], ...(isIngest(scenario) ? [[bareD1, d1Runs]] : [])];
      for (let k = 0; k < round % order.length; k++) order.push(order.shift());
      for (const [target, runs] of order) runs.push(await measuredLoad(target, scenario));
    }
    const inWorker = requestCost(logLines(gw.output().slice(from)), scenario);
    const bareLoggingInWorker = requestCost(logLines(bareLogging.output().slice(loggingFrom)), scenario);
    const bareD1InWorker = isIngest(scenario) ? requestCost(logLines(bareD1.output().slice(d1From)), scenario) : undefined;
    // The inline audit is written after the answers (coalesced, src/storage/inline-call-buffer.ts), so it is not in
    // the requests' own D1 counts: its rows, each with one index entry, over the calls they hold.
    let auditRowsWrittenPerCall;
    if (scenario.id.startsWith("inline-")) {
      await new Promise((r) => setTimeout(r, 2_000));
      const [audit] = await gw.query(`SELECT count(*) AS rows, coalesce(sum(call_count), 0) AS calls FROM inline_call_batches WHERE hook_type = '${scenario.id.slice("inline-".length)}'`);
      auditRowsWrittenPerCall = audit.calls > 0 ? (2 * audit.rows) / audit.calls : undefined;
    }
    const rps = (r) => r.requests.average;
    const ratios = gatewayRuns.map((g, i) => rps(g) / rps(bareRuns[i]));
    const loggingRatios = gatewayRuns.map((g, i) => rps(g) / rps(loggingRuns[i]));
    const mid = (runs, f) => median(runs.map(f));
    const failures = gatewayRuns.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
    results.push({
      id: scenario.id,
      name: scenario.name,
      gatewayRps: mid(gatewayRuns, rps),
      bareRps: mid(bareRuns, rps),
      ratio: median(ratios),
      ratios,
      bareLoggingRps: mid(loggingRuns, rps),
      loggingRatio: median(loggingRatios),
      loggingRatios,
      p50: mid(gatewayRuns, (r) => r.latency.p50),
      p99: mid(gatewayRuns, (r) => r.latency.p99),
      bareP50: mid(bareRuns, (r) => r.latency.p50),
      bareP99: mid(bareRuns, (r) => r.latency.p99),
      eventsPerSecond: scenario.events ? mid(gatewayRuns, rps) * scenario.events : null,
      failures,
      inWorker,
      bareLoggingInWorker,
      cpuMsPerRequest: mid(gatewayRuns, (r) => r.cpuMsPerRequest),
      bareCpuMsPerRequest: mid(bareRuns, (r) => r.cpuMsPerRequest),
      bareLoggingCpuMsPerRequest: mid(loggingRuns, (r) => r.cpuMsPerRequest),
      ...(auditRowsWrittenPerCall !== undefined && { auditRowsWrittenPerCall }),
      ...(isIngest(scenario) && {
        bareD1Rps: mid(d1Runs, rps),
        d1Ratio: median(gatewayRuns.map((g, i) => rps(g) / rps(d1Runs[i]))),
        d1Ratios: gatewayRuns.map((g, i) => rps(g) / rps(d1Runs[i])),
        bareD1EventsPerSecond: scenario.events ? mid(d1Runs, rps) * scenario.events : null,
        bareD1CpuMsPerRequest: mid(d1Runs, (r) => r.cpuMsPerRequest),
        bareD1InWorker,
      }),
    });
    console.log(`${scenario.name}: ${Math.round(results.at(-1).gatewayRps)} req/s, ${results.at(-1).ratio.toFixed(2)}× bare, ${results.at(-1).loggingRatio.toFixed(2)}× bare+log${failures ? `, ${failures} failures` : ""}`);
  }
  return results;
}

/**
 * The hook routes one request at a time (BENCH_ROUNDS rounds of BENCH_SECONDS, the gateway and the logging bare
 * Worker taking turns): the in-Worker `ms` with nothing queued in front of the request, which under 8 connections
 * on 2 cores is mostly the wait for the isolate's one thread (docs/testing.md). The figure the inline hooks' ≤ 2 ms
 * target is read from.
 */
async function serialSection(gw, bareLogging) {
  const results = [];
  for (const scenario of SCENARIOS.filter((s) => ["verification", "inline-token", "inline-registration", "ingest-1", "ingest-20"].includes(s.id))) {
    const gatewayRuns = [];
    const loggingRuns = [];
    const from = gw.output().length;
    const loggingFrom = bareLogging.output().length;
    for (let round = 0; round < rounds; round++) {
      const order = [[gw, gatewayRuns], [bareLogging, loggingRuns]];
      if (round % 2) order.reverse();
      for (const [target, runs] of order) runs.push(await measuredLoad(target, scenario, 1));
    }
    const mid = (runs, f) => median(runs.map(f));
    results.push({
      id: scenario.id,
      name: scenario.name,
      requests: gatewayRuns.reduce((n, r) => n + r.requests.total, 0),
      failures: gatewayRuns.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      p50: mid(gatewayRuns, (r) => r.latency.p50),
      p99: mid(gatewayRuns, (r) => r.latency.p99),
      bareLoggingP50: mid(loggingRuns, (r) => r.latency.p50),
      bareLoggingP99: mid(loggingRuns, (r) => r.latency.p99),
      inWorker: requestCost(logLines(gw.output().slice(from)), scenario),
      bareLoggingInWorker: requestCost(logLines(bareLogging.output().slice(loggingFrom)), scenario),
      cpuMsPerRequest: mid(gatewayRuns, (r) => r.cpuMsPerRequest),
      bareLoggingCpuMsPerRequest: mid(loggingRuns, (r) => r.cpuMsPerRequest),
    });
    const last = results.at(-1);
    console.log(`${scenario.name}, one at a time: in the Worker p50 ${last.inWorker.msP50} / p99 ${last.inWorker.msP99} ms (bare+log ${last.bareLoggingInWorker.msP50} / ${last.bareLoggingInWorker.msP99})`);
  }
  return results;
}

/** A copy of wrangler.toml with another max_batch_timeout on the forward queue's consumer, beside it. */
function configWithBatchTimeout(value) {
  const source = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const changed = source.replace(/(queue = "okta-hooks-edge-forward"\n(?:.*\n)*?max_batch_timeout = )\d+/, `$1${value}`);
  if (changed === source && !source.includes(`max_batch_timeout = ${value}`)) throw new Error("max_batch_timeout not found in wrangler.toml");
  const file = path.join(ROOT, `.bench-wrangler-${value}.toml`);
  writeFileSync(file, changed);
  return file;
}

function currentBatchTimeout() {
  const m = /queue = "okta-hooks-edge-forward"\n(?:.*\n)*?max_batch_timeout = (\d+)/.exec(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"));
  return m ? Number(m[1]) : null;
}

async function forwardingSection(gw) {
  const receiver = await startReceiver();
  try {
    const cost = [];
    for (const destinations of [1, 3]) cost.push(await forwardingCostPhase(gw, receiver, nextEvent, { destinations, deliveries: 50, size: 20 }));
    cost.push(await forwardingCostPhase(gw, receiver, nextEvent, { destinations: 1, deliveries: 200, size: 1 }));
    const throughput = [];
    for (const destinations of [1, 5]) throughput.push(await forwardingThroughput(gw, receiver, nextEvent, { destinations, deliveries: 100, size: 20, concurrency: 4 }));
    const trickle = [];
    const interval = { intervalMs: 250, seconds: 15 };
    trickle.push({ batchTimeout: currentBatchTimeout(), ...interval, ...(await trickleLatency(gw, receiver, nextEvent, interval)) });
    for (const value of batchTimeouts) {
      const config = configWithBatchTimeout(value);
      const variant = await startGateway({ vars: GATEWAY_VARS, config });
      try {
        trickle.push({ batchTimeout: value, ...interval, ...(await trickleLatency(variant, receiver, nextEvent, interval)) });
      } finally {
        await variant.stop();
        rmSync(config, { force: true });
      }
    }
    return { cost, throughput, trickle };
  } finally {
    await receiver.close();
  }
}

const ID_LIKE = /^[A-Za-z0-9_-]{16,}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A copy of `value` with every id-like string (ids, session and request ids, hashes, uuids) and time made fresh. */
function freshIds(value, rand) {
  if (Array.isArray(value)) return value.map((v) => freshIds(v, rand));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "published" ? new Date(Date.UTC(2026, 10, 1) + Math.floor(rand() * 86_400_000)).toISOString() : freshIds(v, rand)]));
  if (typeof value === "string" && ID_LIKE.test(value)) {
    return value.replace(/[0-9a-f](?=[0-9a-f-]*$)|[A-Za-z0-9_]/g, (c) => (/[0-9a-f]/.test(c) && value.includes("-") && value.length === 36 ? "0123456789abcdef"[Math.floor(rand() * 16)] : ALPHANUMERIC[Math.floor(rand() * ALPHANUMERIC.length)]));
  }
  return value;
}

/** The event objects of every Okta example delivery in the fixtures (docs samples and captured deliveries). */
function oktaExampleEvents() {
  const files = ["event-hook.delivery.user-session-start.json", "event-hook.delivery.user-session-start.2019.json", "captured/event-hook.delivery.user-account-update-profile.json", "captured/event-hook.delivery.user-lifecycle-create.json", "captured/event-hook.delivery.user-lifecycle-delete-initiated.json"];
  const single = JSON.parse(fixture("event-hook.logevent.user-lifecycle-deactivate.json"));
  return [...files.flatMap((f) => JSON.parse(fixture(f)).data.events), single];
}

async function storageSection() {
  // Its own gateway, without destinations: what is kept for every stored event, nothing else running.
  const gw = await startGateway({ vars: GATEWAY_VARS });
  try {
    // Store in cycles, each followed by the cron (outbox sweep and payload compaction), as a running gateway does;
    // measured from the end of the first cycle, so pages compaction freed are reused the way they are in production.
    const measure = async (id, name, events, cycles = 5) => {
      const per = Math.ceil(events.length / cycles);
      const chunks = Array.from({ length: cycles }, (_, i) => events.slice(i * per, (i + 1) * per));
      const cycle = async (chunk) => {
        await storeAll(gw, chunk);
        const res = await gw.runScheduled();
        if (!res.ok) throw new Error(`the cron answered ${res.status}`);
      };
      await cycle(chunks[0]);
      const before = snapshot(gw.persistTo);
      for (const chunk of chunks.slice(1)) await cycle(chunk);
      const result = growth(before, snapshot(gw.persistTo));
      const measured = chunks.slice(1).flat();
      const jsonBytes = measured.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0) / measured.length;
      return { id, name, jsonBytesPerEvent: jsonBytes, ...result };
    };
    const examples = oktaExampleEvents();
    // Each example many times over, every id, hash and time in it fresh per copy (a delivery is compressed as a whole,
    // so identical copies would cost almost nothing): Okta's real structure and values, an org's entropy.
    const rand = seeded(4242);
    const exampleCopies = Array.from({ length: 2_400 }, (_, i) => freshIds(examples[i % examples.length], rand));
    await storeAll(gw, [nextEvent()]); // the first delivery loads the isolate's routing copy
    return [
      await measure("okta-examples", `Okta's example events (${examples.length}), ${exampleCopies.length / examples.length} copies each with fresh ids and times`, exampleCopies),
      await measure("synthetic", "synthesized events, 2-4 KB of JSON", Array.from({ length: 6_000 }, nextEvent)),
    ];
  } finally {
    await gw.stop();
  }
}

const run = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), Node ${process.version}, wrangler dev --local`,
  method: `${connections} connections, ${rounds} rounds of ${seconds} s per scenario, the gateway and the baselines taking turns going first; ratios are per round, the table shows their median. "bare": reads the body and answers a constant (bench/bare-worker.js); "bare+log": the same plus one log line per request (bench/bare-worker-logging.js), the fairer reference under wrangler dev, whose inspector session relays every console call (docs/testing.md); "bare+D1" (event POSTs only): bare+log plus storing each event's text once by uuid in one local D1 statement (bench/bare-worker-d1.js), the least any Worker that stores a delivery before answering must do.`,
};
if (sections.has("http") || sections.has("serial") || sections.has("forwarding")) {
  const bare = sections.has("http") ? await startBare() : null;
  const bareLogging = sections.has("http") || sections.has("serial") ? await startBare("bench/bare-worker-logging.toml") : null;
  const bareD1Dir = mkdtempSync(path.join(os.tmpdir(), "bench-bare-d1-"));
  const bareD1 = sections.has("http") ? await startBare("bench/bare-worker-d1.toml", { persistTo: bareD1Dir }) : null;
  const gw = await startGateway({ vars: GATEWAY_VARS });
  try {
    await seedInlineRules(gw);
    // Forwarding first, while the queue is idle; the load scenarios after it run with no destination.
    if (sections.has("forwarding")) run.forwarding = await forwardingSection(gw);
    if (sections.has("serial")) {
      bareLogging.group = processGroupOf(new URL(bareLogging.baseUrl).port);
      gw.group = processGroupOf(new URL(gw.baseUrl).port);
      run.serial = await serialSection(gw, bareLogging);
    }
    if (sections.has("http")) run.http = await httpSection(gw, bare, bareLogging, bareD1);
  } finally {
    await gw.stop();
    bare?.stop();
    bareLogging?.stop();
    bareD1?.stop();
    rmSync(bareD1Dir, { recursive: true, force: true });
  }
}
if (sections.has("storage")) run.storage = await storageSection();
writeRun(run, path.join(ROOT, "bench", "results"));
console.log(readFileSync(path.join(ROOT, "bench", "results", "latest.md"), "utf8"));
