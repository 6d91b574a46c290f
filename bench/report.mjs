// Writing a `npm run bench` run down: JSON with every figure, a Markdown page of tables (quoted by the README and
// docs/testing.md), and an SVG chart of throughput against the bare Worker.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { costPerMillion, monthAtOktaMaximum, PRICES } from "./prices.mjs";

const fmt = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const usd = (n) => `$${n < 1 ? n.toFixed(3) : n.toFixed(2)}`;

function table(headers, rows) {
  return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export function markdown(run) {
  const out = [`# Benchmark run ${run.date}`, "", `${run.machine}. ${run.method}`, ""];
  if (run.http) {
    out.push("## Requests against bare Workers (same wrangler, workerd and load, taking turns)", "");
    out.push(
      table(
        ["scenario", "gateway req/s", "bare req/s", "× bare (median of rounds)", "bare+log req/s", "× bare+log", "p50 / p99 ms", "bare p50 / p99 ms", "events/s"],
        run.http.map((s) => [
          s.name,
          fmt(s.gatewayRps),
          fmt(s.bareRps),
          `**${fmt(s.ratio, 2)}** (${s.ratios.map((r) => fmt(r, 2)).join(", ")})`,
          fmt(s.bareLoggingRps),
          `**${fmt(s.loggingRatio, 2)}** (${s.loggingRatios.map((r) => fmt(r, 2)).join(", ")})`,
          `${fmt(s.p50)} / ${fmt(s.p99)}`,
          `${fmt(s.bareP50)} / ${fmt(s.bareP99)}`,
          s.eventsPerSecond ? fmt(s.eventsPerSecond) : "",
        ]),
      ),
      "",
      "Per request, in the same runs: the CPU that wrangler's Node process and workerd together spent (from /proc, the figure that moves least when the machine is shared), the Worker's own wall time from its log line (`ms`) beside the bare+log Worker's, measured the same way under the same load, and how much of it was spent waiting for D1 (`d1Ms`).",
      "",
      table(
        ["scenario", "CPU ms: gateway", "bare", "bare+log", "bare+log CPU ÷ gateway CPU", "in-Worker ms p50 / p99", "bare+log in-Worker ms p50 / p99", "of which waiting for D1, p50 / p99", "D1 rows read / written per request"],
        run.http.map((s) => [
          s.name,
          fmt(s.cpuMsPerRequest, 2),
          fmt(s.bareCpuMsPerRequest, 2),
          fmt(s.bareLoggingCpuMsPerRequest, 2),
          s.cpuMsPerRequest ? `**${fmt(s.bareLoggingCpuMsPerRequest / s.cpuMsPerRequest, 2)}**` : "–",
          `${fmt(s.inWorker.msP50)} / ${fmt(s.inWorker.msP99)}`,
          s.bareLoggingInWorker ? `${fmt(s.bareLoggingInWorker.msP50)} / ${fmt(s.bareLoggingInWorker.msP99)}` : "–",
          `${fmt(s.inWorker.d1MsP50)} / ${fmt(s.inWorker.d1MsP99)}`,
          `${fmt(s.inWorker.rowsReadPerRequest, 1)} / ${fmt(s.inWorker.rowsWrittenPerRequest, 1)}`,
        ]),
      ),
      "",
    );
    const ingest = run.http.filter((s) => s.d1Ratios);
    if (ingest.length > 0) {
      out.push(
        "Event POSTs against bare+D1 (bench/bare-worker-d1.js: bare+log plus each event's text stored once by uuid in one local D1 statement), in the same rounds:",
        "",
        table(
          ["scenario", "gateway req/s", "bare+D1 req/s", "× bare+D1 (median of rounds)", "bare+D1 ÷ bare", "events/s: gateway / bare+D1", "CPU ms: gateway / bare+D1", "in-Worker ms p50 / p99: gateway / bare+D1", "waiting for D1 p50 / p99: gateway / bare+D1"],
          ingest.map((s) => [
            s.name,
            fmt(s.gatewayRps),
            fmt(s.bareD1Rps),
            `**${fmt(s.d1Ratio, 2)}** (${s.d1Ratios.map((r) => fmt(r, 2)).join(", ")})`,
            fmt(s.bareD1Rps / s.bareRps, 2),
            s.eventsPerSecond ? `${fmt(s.eventsPerSecond)} / ${fmt(s.bareD1EventsPerSecond)}` : "",
            `${fmt(s.cpuMsPerRequest, 2)} / ${fmt(s.bareD1CpuMsPerRequest, 2)}`,
            `${fmt(s.inWorker.msP50)} / ${fmt(s.inWorker.msP99)} — ${fmt(s.bareD1InWorker.msP50)} / ${fmt(s.bareD1InWorker.msP99)}`,
            `${fmt(s.inWorker.d1MsP50)} / ${fmt(s.inWorker.d1MsP99)} — ${fmt(s.bareD1InWorker.d1MsP50)} / ${fmt(s.bareD1InWorker.d1MsP99)}`,
          ]),
        ),
        "",
      );
    }
  }
  if (run.serial) {
    out.push(
      "## One request at a time (nothing queued in front of a request: the gateway's own time)",
      "",
      table(
        ["scenario", "requests", "in-Worker ms p50 / p99", "bare+log in-Worker ms p50 / p99", "client p50 / p99 ms", "bare+log client p50 / p99 ms", "CPU ms: gateway / bare+log"],
        run.serial.map((s) => [
          `${s.name}${s.failures ? ` (${s.failures} FAILED)` : ""}`,
          fmt(s.requests),
          `**${fmt(s.inWorker.msP50)} / ${fmt(s.inWorker.msP99)}**`,
          `${fmt(s.bareLoggingInWorker.msP50)} / ${fmt(s.bareLoggingInWorker.msP99)}`,
          `${fmt(s.p50)} / ${fmt(s.p99)}`,
          `${fmt(s.bareLoggingP50)} / ${fmt(s.bareLoggingP99)}`,
          `${fmt(s.cpuMsPerRequest, 2)} / ${fmt(s.bareLoggingCpuMsPerRequest, 2)}`,
        ]),
      ),
      "",
    );
  }
  if (run.forwarding) {
    const f = run.forwarding;
    out.push("## Forwarding", "");
    out.push(
      table(
        ["phase", "events", "D1 rows written / event", "D1 rows read / event", "queue messages / event", "queue operations / event"],
        f.cost.map((c) => [`${c.events / c.deliverySize} deliveries of ${c.deliverySize} → ${c.destinations} destination${c.destinations > 1 ? "s" : ""}${c.allArrived ? "" : " (NOT ALL ARRIVED)"}`, fmt(c.events), fmt(c.rowsWrittenPerEvent, 2), fmt(c.rowsReadPerEvent, 2), fmt(c.queueMessagesPerEvent, 3), fmt(c.queueOperationsPerEvent, 3)]),
      ),
      "",
      table(
        ["throughput", "events", "deliveries", "seconds", "events/s", "deliveries/s"],
        f.throughput.map((t) => [`→ ${t.destinations} destination${t.destinations > 1 ? "s" : ""}${t.allArrived ? "" : " (NOT ALL ARRIVED)"}`, fmt(t.events), fmt(t.deliveries), fmt(t.seconds, 1), fmt(t.eventsPerSecond), fmt(t.deliveriesPerSecond)]),
      ),
      "",
      table(
        ["trickle: POST → receiver", "max_batch_timeout", "events", "p50 ms", "p99 ms"],
        f.trickle.map((t) => [`one event every ${t.intervalMs} ms`, `${t.batchTimeout} s`, fmt(t.events), fmt(t.p50), fmt(t.p99)]),
      ),
      "",
    );
  }
  if (run.storage) {
    out.push("## Storage per event (local D1's SQLite file: growth of the whole database over store-then-compact cycles, and the pages of live rows per table and index)", "");
    out.push(
      table(
        ["events (deliveries of 20)", "measured", "JSON bytes / event", "stored payload bytes / event", "D1 database growth / event", "live pages / event", "by table and index"],
        run.storage.map((s) => [s.name, fmt(s.events), fmt(s.jsonBytesPerEvent), fmt(s.payloadBytesPerEvent), `**${fmt(s.fileBytesPerEvent)}**`, fmt(s.bytesPerEvent), Object.entries(s.perTable).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")]),
      ),
      "",
    );
  }
  if (run.prices) {
    out.push(`## Cost per million, beyond the included allowances (Cloudflare's prices of ${PRICES.asOf}, ${PRICES.plan})`, "");
    out.push(
      table(
        ["what", "D1 rows written", "D1 rows read", "queue operations", "Worker requests", "cost per million"],
        run.prices.rows.map((r) => [r.name, fmt(r.perUnit.rowsWritten, 2), fmt(r.perUnit.rowsRead, 2), fmt(r.perUnit.queueOperations, 3), fmt(r.perUnit.requests, 3), `**${usd(r.cost.total)}**`]),
      ),
      "",
      run.prices.month,
      "",
    );
  }
  return out.join("\n");
}

/** Bars of gateway and bare req/s per scenario. */
export function chart(run) {
  const rows = run.http ?? [];
  const width = 760;
  const rowHeight = 34;
  const left = 250;
  const max = Math.max(1, ...rows.flatMap((r) => [r.gatewayRps, r.bareRps]));
  const scale = (v) => ((width - left - 80) * v) / max;
  const bars = rows
    .map((r, i) => {
      const y = 40 + i * rowHeight;
      return [
        `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${r.name}</text>`,
        `<rect x="${left}" y="${y}" width="${scale(r.bareRps).toFixed(1)}" height="12" fill="#b0b7c3"/>`,
        `<rect x="${left}" y="${y + 13}" width="${scale(r.gatewayRps).toFixed(1)}" height="12" fill="#2f6fde"/>`,
        `<text x="${left + scale(Math.max(r.bareRps, r.gatewayRps)) + 6}" y="${y + 20}">${fmt(r.ratio, 2)}×</text>`,
      ].join("");
    })
    .join("\n");
  const height = 60 + rows.length * rowHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" font-size="14">Requests per second: bare Worker (grey) and okta-hooks-edge (blue), ${run.date}</text>
${bars}
</svg>
`;
}

export function pricesFor(run) {
  const byDestinations = (n) => run.forwarding?.cost.find((c) => c.destinations === n);
  const ingest20 = run.http?.find((s) => s.id === "ingest-20");
  const rows = [];
  if (ingest20) {
    const perEvent = { rowsWritten: ingest20.inWorker.rowsWrittenPerRequest / 20, rowsRead: ingest20.inWorker.rowsReadPerRequest / 20, queueOperations: 0, requests: 1 / 20 };
    rows.push({ name: "event received (stored, no destination wants it; deliveries of 20)", perUnit: perEvent, cost: costPerMillion(perEvent) });
  }
  for (const n of [1, 3]) {
    const c = byDestinations(n);
    if (!c) continue;
    // Requests: the Okta POST (one per delivery) and the queue consumer invocation (one per batch message).
    const perEvent = { rowsWritten: c.rowsWrittenPerEvent, rowsRead: c.rowsReadPerEvent, queueOperations: c.queueOperationsPerEvent, requests: 1 / c.deliverySize + c.queueMessagesPerEvent };
    rows.push({ name: `event forwarded to ${n} destination${n > 1 ? "s" : ""} (deliveries of ${c.deliverySize})`, perUnit: perEvent, cost: costPerMillion(perEvent) });
  }
  // Okta amalgamates events that occur close together, so deliveries are small when traffic is light: the same
  // event in a delivery of its own pays the batch's fixed rows alone.
  const single = run.forwarding?.cost.find((c) => c.destinations === 1 && c.deliverySize === 1);
  if (single) {
    const perEvent = { rowsWritten: single.rowsWrittenPerEvent, rowsRead: single.rowsReadPerEvent, queueOperations: single.queueOperationsPerEvent, requests: 1 + single.queueMessagesPerEvent };
    rows.push({ name: "event forwarded to 1 destination (one-event deliveries)", perUnit: perEvent, cost: costPerMillion(perEvent) });
  }
  for (const s of run.http ?? []) {
    if (!s.id.startsWith("inline-")) continue;
    const perCall = { rowsWritten: s.auditRowsWrittenPerCall ?? s.inWorker.rowsWrittenPerRequest, rowsRead: s.inWorker.rowsReadPerRequest, queueOperations: 0, requests: 1 };
    rows.push({ name: `${s.name} call`, perUnit: perCall, cost: costPerMillion(perCall) });
  }
  const one = rows.find((r) => r.name.startsWith("event forwarded to 1 "));
  const storage = run.storage?.find((s) => s.id === "synthetic");
  let month = "";
  if (one && storage) {
    const m = monthAtOktaMaximum(one.perUnit, { bytesPerEvent: storage.fileBytesPerEvent });
    month =
      `An org at Okta's event hook maximum (400,000 events a day, 12 M a month), every event forwarded to one destination, ` +
      `30 days kept (${fmt(m.storageGb, 1)} GB of D1 at ${fmt(storage.fileBytesPerEvent)} bytes per event): ` +
      `**${usd(m.usage)} a month of usage beyond the plan's allowances** (D1 writes ${usd(m.lines.d1Writes)}, reads ${usd(m.lines.d1Reads)}, ` +
      `storage ${usd(m.lines.d1Storage)}, Queues ${usd(m.lines.queues)}, requests ${usd(m.lines.requests)}) plus the plan's $${m.plan}. ` +
      `CPU time is not in these figures (workerd does not report it locally; Workers bills $${PRICES.workersCpuMsPerMillion} per million CPU ms beyond 30 M a month).`;
    const alone = rows.find((r) => r.name.includes("one-event deliveries"));
    if (alone) {
      const a = monthAtOktaMaximum(alone.perUnit, { bytesPerEvent: storage.fileBytesPerEvent });
      month += ` If every event came in a delivery of its own: ${usd(a.usage)} a month beyond the allowances (D1 writes ${usd(a.lines.d1Writes)}, Queues ${usd(a.lines.queues)}, requests ${usd(a.lines.requests)}).`;
    }
  }
  return { rows, month };
}

export function writeRun(run, dir) {
  run.prices = pricesFor(run);
  writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(path.join(dir, "latest.md"), `${markdown(run)}\n`);
  if (run.http) writeFileSync(path.join(dir, "throughput.svg"), chart(run));
}
