#!/usr/bin/env node
// A short, bounded A/B of the hot paths that should cost little more than a bare Worker: the verification GET and
// the token and registration inline hooks deciding from cached rules. It starts the bare Worker
// (bench/bare-worker.js), this checkout's gateway and, with `--baseline <dir>`, a second checkout's gateway (e.g. a
// `git worktree` of main with node_modules linked), all under `wrangler dev` in their own process groups, then runs
// ROUNDS rounds in which every scenario is loaded on each target in turn, S seconds each. Targets alternate within a
// round, so a shared machine's load falls on all of them alike; the figure to quote is the median ratio to the bare
// Worker, with every round's ratio beside it. On Linux it also reads, from /proc, the CPU time each target's process
// group (wrangler's Node process and its workerd processes) spent per request: unlike req/s, that hardly moves when
// other work shares the machine, and bare CPU / target CPU is the ratio a CPU-bound run would show. Also prints the
// in-Worker `ms` of the gateway's log lines.
//
//   node bench/inline-ab.mjs [--baseline ../main-checkout] [--rounds 3] [--seconds 4] [--connections 8] [--ingest]
//
// --ingest adds POSTs of 1 and of 20 new events (each request new events, so nothing is a duplicate).
//
// This is a developer's A/B tool; `npm run bench` (scripts/bench.mjs) is the benchmark the docs quote.
import path from "node:path";
import { parseArgs } from "node:util";
import { startGateway } from "../test/e2e/gateway.ts";
import { cpuMsOfGroup, load, processGroupOf, startBare } from "./load.mjs";
import { scenarios, seedInlineRules } from "./scenarios.mjs";

const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    connections: { type: "string", default: "8" },
    ingest: { type: "boolean", default: false },
  },
});
const rounds = Math.min(10, Math.max(1, Number(args.rounds)));
const seconds = Math.min(30, Math.max(1, Number(args.seconds)));
const connections = Math.min(64, Math.max(1, Number(args.connections)));

// The hot paths, and with --ingest event deliveries too, every one new (20 synthesized 2-4 KB events).
const all = scenarios({ seed: 11 });
const ids = args.ingest ? ["verification", "inline-token", "inline-registration", "ingest-1", "ingest-20"] : ["verification", "inline-token", "inline-registration"];
const scenarioList = ids.map((id) => all.find((s) => s.id === id));

async function startNamedBare(name = "bare", config = "bench/bare-worker.toml") {
  return { name, ...(await startBare(config)) };
}

/** A gateway from `root` (its own test/e2e/gateway.ts, so it runs its own code), with the scenarios' rules. */
async function startGatewayFrom(name, start) {
  const gw = await start({ vars: {} });
  await seedInlineRules(gw);
  return { name, baseUrl: gw.baseUrl, stop: () => gw.stop(), output: () => gw.output() };
}

const targets = [];
try {
  targets.push(await startNamedBare());
  targets.push(await startNamedBare("bare+log", "bench/bare-worker-logging.toml"));
  targets.push(await startGatewayFrom("this", startGateway));
  if (args.baseline) {
    const other = await import(path.join(path.resolve(args.baseline), "test/e2e/gateway.ts"));
    targets.push(await startGatewayFrom("baseline", other.startGateway));
  }
  for (const t of targets) t.group = processGroupOf(new URL(t.baseUrl).port);
  for (const t of targets) for (const s of scenarioList) await load(t.baseUrl, s, { seconds: 1, connections }); // warm-up: compile, fill caches
  const figures = new Map(); // scenario → target → [req/s per round]
  for (let round = 0; round < rounds; round++) {
    for (const s of scenarioList) {
      // Rotate who goes first, so no target always runs right after another one's load.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        const cpuBefore = cpuMsOfGroup(t.group);
        const r = await load(t.baseUrl, s, { seconds, connections });
        // Work after the answers (the audit's waitUntil) belongs to these requests too.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const cpuMs = (cpuMsOfGroup(t.group) - cpuBefore) / Math.max(1, r.requests.total);
        if (r.non2xx > 0 || r.errors > 0) console.warn(`${t.name} ${s.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        const perTarget = figures.get(s.name) ?? new Map();
        figures.set(s.name, perTarget);
        perTarget.set(t.name, [...(perTarget.get(t.name) ?? []), { rps: r.requests.average, p99: r.latency.p99, cpuMs }]);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  for (const [scenario, perTarget] of figures) {
    const bare = perTarget.get("bare");
    const logging = perTarget.get("bare+log");
    for (const t of targets.filter((x) => x.name !== "bare")) {
      const runs = perTarget.get(t.name);
      const ratios = runs.map((r, i) => r.rps / bare[i].rps);
      const loggingRatios = runs.map((r, i) => r.rps / logging[i].rps);
      rows.push({
        scenario,
        target: t.name,
        "req/s (median)": Math.round(median(runs.map((r) => r.rps))),
        "bare req/s (median)": Math.round(median(bare.map((r) => r.rps))),
        "× bare (median)": Math.round(median(ratios) * 100) / 100,
        "× bare per round": ratios.map((x) => x.toFixed(2)).join(" "),
        "× bare+log (median)": t.name === "bare+log" ? "" : Math.round(median(loggingRatios) * 100) / 100,
        "p99 ms": median(runs.map((r) => r.p99)),
        "CPU ms/req": Math.round(median(runs.map((r) => r.cpuMs)) * 100) / 100,
        "bare CPU ms/req": Math.round(median(bare.map((r) => r.cpuMs)) * 100) / 100,
        "bare CPU / CPU": Math.round((median(bare.map((r) => r.cpuMs)) / median(runs.map((r) => r.cpuMs))) * 100) / 100,
      });
    }
  }
  console.log(`\ninline A/B — wrangler dev, ${connections} connections, ${rounds} rounds × ${seconds} s, node ${process.version}`);
  console.table(rows);
  for (const t of targets.filter((x) => x.name !== "bare")) {
    const ms = new Map();
    for (const line of t.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const l = JSON.parse(line);
        if (l.msg !== "request" || typeof l.ms !== "number") continue;
        if (!ms.has(l.route)) ms.set(l.route, []);
        ms.get(l.route).push(l.ms);
      } catch {
        // a line that only looks like JSON
      }
    }
    const at = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
    console.log(`in-Worker ms (log line), ${t.name}:`);
    console.table([...ms].map(([route, xs]) => (xs.sort((a, b) => a - b), { route, requests: xs.length, p50: at(xs, 0.5), p99: at(xs, 0.99) })));
  }
} finally {
  for (const t of targets) await t.stop();
}
