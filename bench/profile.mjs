#!/usr/bin/env node
// Where a hot path's time goes: starts this checkout's gateway under `wrangler dev` (local D1 and Queues), loads one
// scenario from a second process for S seconds, and records a V8 CPU profile of the Worker's isolate meanwhile,
// through wrangler's inspector proxy (the DevTools protocol, the same session `wrangler dev` uses to relay logs).
// Prints the functions with the most time of their own and in total (with what they call), per request, and writes
// the profile (open it in Chrome DevTools or https://www.speedscope.app).
//
//   npm run bench:profile -- --scenario inline-token [--seconds 5] [--interval 500] [--out /tmp/x.cpuprofile]
//   scenarios: verification, inline-token, inline-registration, ingest-1, ingest-20
//
// Profiling slows the Worker (sampling every `interval` µs), so read the shares, not the milliseconds; functions
// without a file (`:-1`) are the runtime's own (console.log relayed to the inspector, D1's binding, body reads).
// A developer's tool: `npm run bench` is the benchmark the docs quote.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startGateway } from "../test/e2e/gateway.ts";
import { load } from "./load.mjs";
import { scenarios, seedInlineRules } from "./scenarios.mjs";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "inline-token" },
    seconds: { type: "string", default: "5" },
    interval: { type: "string", default: "500" },
    connections: { type: "string", default: "8" },
    top: { type: "string", default: "25" },
    out: { type: "string" },
  },
});
const seconds = Math.min(30, Math.max(1, Number(args.seconds)));
const interval = Math.min(10_000, Math.max(100, Number(args.interval)));
const connections = Math.min(64, Math.max(1, Number(args.connections)));
const top = Math.min(200, Math.max(1, Number(args.top)));

const IDS = ["verification", "inline-token", "inline-registration", "ingest-1", "ingest-20"];
const scenario = IDS.includes(args.scenario) ? scenarios({ seed: 7 }).find((s) => s.id === args.scenario) : undefined;
if (!scenario) throw new Error(`unknown scenario ${args.scenario}; one of ${IDS.join(", ")}`);

/** A DevTools session on wrangler's inspector proxy; the first connection after start is sometimes dropped, so it retries. */
async function inspect(port) {
  for (let attempt = 1; ; attempt++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { Origin: "https://devtools.devprod.cloudflare.dev" } });
    const pending = new Map();
    let next = 1;
    ws.onmessage = (m) => {
      const message = JSON.parse(String(m.data));
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    };
    const call = (method, params = {}, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => (pending.delete(id), reject(new Error(`${method}: no answer`))), timeoutMs);
        pending.set(id, (message) => (clearTimeout(timer), message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result)));
        ws.send(JSON.stringify({ id, method, params }));
      });
    try {
      await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = () => reject(new Error("inspector connection failed")))));
      await call("Profiler.enable", {}, 5_000);
      return { call, close: () => ws.close() };
    } catch (error) {
      ws.close();
      if (attempt === 5) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Self and total time per function (by name, file and line), each in ms per request. */
function summarize(profile, requests) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sampled = new Map();
  profile.samples.forEach((id, i) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const key = ({ callFrame: f }) => `${f.functionName || "(anonymous)"} ${f.url ? path.basename(f.url) : ""}:${f.lineNumber + 1}`;
  const self = new Map();
  const total = new Map();
  let all = 0;
  for (const [id, micros] of sampled) {
    all += micros;
    const k = key(byId.get(id));
    self.set(k, (self.get(k) ?? 0) + micros);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const name = key(byId.get(at));
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + micros);
    }
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, micros]) => ({ function: fn, "ms/request": Number((micros / 1000 / requests).toFixed(3)), share: `${((100 * micros) / all).toFixed(1)}%` }));
  return { sampledMs: all / 1000, self: rows(self), total: rows(total) };
}

const gw = await startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true" } });
try {
  await seedInlineRules(gw);
  await load(gw.baseUrl, scenario, { seconds: 2, connections }); // warm-up: compile, fill the caches
  const session = await inspect(gw.inspectorPort);
  await session.call("Profiler.setSamplingInterval", { interval });
  await session.call("Profiler.start");
  const result = await load(gw.baseUrl, scenario, { seconds, connections });
  const { profile } = await session.call("Profiler.stop");
  session.close();
  const out = args.out ?? path.join(os.tmpdir(), `okta-hooks-edge-${args.scenario}.cpuprofile`);
  writeFileSync(out, JSON.stringify(profile));
  const summary = summarize(profile, Math.max(1, result.requests.total));
  console.log(`${args.scenario}: ${result.requests.total} requests (${result.non2xx} not 2xx) in ${seconds} s under the profiler, ${summary.sampledMs.toFixed(0)} ms sampled, every ${interval} µs; profile: ${out}`);
  console.log("Time of their own:");
  console.table(summary.self);
  console.log("Total time (with what they call):");
  console.table(summary.total);
} finally {
  await gw.stop();
}
