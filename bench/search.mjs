#!/usr/bin/env node
// `npm run bench:search`: the event search (GET /admin/api/events) on a local D1 of BENCH_EVENTS events
// (default 1,000,000), through the real Worker under `wrangler dev`. Not run in CI.
//
// 1. Builds the database once in BENCH_DB_DIR (default .wrangler/bench-search-<events>; reused when it already
//    holds the events): migrations, then synthetic events generated inside SQLite in chunks — 20-event batches
//    arriving at Okta's 400,000 events/day, ~60 event types with a realistic skew (policy and session events
//    dominate), 5,000 actors, 5 % FAILURE and 1 % DENY outcomes, 20 % unrouted, ~600-byte texts stored plain in
//    one payload row per batch (as ingest stores them, before the cron compacts them), and each batch's uuid list,
//    types (batch_types) and failed outcomes (batch_failures), as ingest writes them.
// 2. Serves it with `wrangler dev` and asks each search BENCH_ROUNDS times (default 5): its first page and the
//    page after it. Reports per search the median time at the client and inside the Worker (the log line's `ms`),
//    the events per page, and the D1 rows the page read (the log line's d1RowsRead, as D1 reports them).
// Output: a Markdown table, and JSON with every round when BENCH_OUT names a file. Local D1 is SQLite on this
// disk: compare runs on one machine; the rows read do not depend on the machine.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { E2E_ADMIN_TOKEN, runWrangler, startGateway } from "../test/e2e/gateway.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ROUNDS = Math.min(50, Number(process.env.BENCH_ROUNDS ?? 5));
const DB_DIR = path.resolve(process.env.BENCH_DB_DIR ?? path.join(ROOT, ".wrangler", `bench-search-${EVENTS}`));
const CHUNK = 100_000;
const BATCH = 20;
/** Okta's maximum rate, 400,000 events a day: 216 ms apart. */
const EVENT_SPACING_MS = 216;
const START = Date.UTC(2026, 9, 1);

const wrangler = (args) => runWrangler(args);

const d1 = (sql) => wrangler(["d1", "execute", "DB", "--local", "--persist-to", DB_DIR, "--json", "--command", sql]);

/** Event types and their share per thousand (a typical org: sign-on policy and sessions dominate). */
const TYPES = [
  ["policy.evaluate_sign_on", 190], ["user.session.start", 140], ["user.authentication.sso", 110],
  ["user.authentication.auth_via_mfa", 70], ["app.oauth2.as.token.grant.access_token", 50], ["app.oauth2.as.authorize", 45],
  ["user.session.end", 45], ["user.authentication.verify", 35], ["user.account.update_profile", 30],
  ["group.user_membership.add", 25], ["application.user_membership.add", 20], ["app.oauth2.as.token.grant.id_token", 20],
  ["user.authentication.authenticate", 18], ["group.user_membership.remove", 12], ["user.lifecycle.create", 12],
  ["user.lifecycle.activate", 10], ["user.mfa.factor.activate", 8], ["user.account.update_password", 8],
  ["application.user_membership.remove", 8], ["user.lifecycle.deactivate", 6], ["system.import.start", 6],
  ["system.import.complete", 6], ["user.account.lock", 5], ["user.account.unlock", 4], ["user.mfa.factor.deactivate", 4],
  ["user.lifecycle.suspend", 3], ["user.lifecycle.unsuspend", 3], ["user.account.reset_password", 3],
  ["user.lifecycle.delete.initiated", 2], ["user.lifecycle.delete.completed", 2], ["app.user_management.push_profile_success", 10],
  ["app.generic.unauth_app_access_attempt", 5], ["security.threat.detected", 3], ["system.org.rate_limit.warning", 3],
  ["system.api_token.create", 1], ["policy.lifecycle.update", 2], ["user.account.privilege.grant", 1],
  ["group.lifecycle.create", 2], ["application.lifecycle.update", 2], ["user.session.access_admin_app", 20],
  ["user.authentication.universal_logout", 1], ["device.enrollment.create", 9], ["user.mfa.okta_verify.deny_push", 4],
  ["system.email.delivery", 12], ["system.sms.send_factor_verify_message", 10], ["user.session.clear", 3],
  ["user.session.context.change", 4], ["user.identity_verification", 4], ["zone.update", 1], ["event_hook.delivery", 2],
];
const total = TYPES.reduce((n, [, w]) => n + w, 0);
let acc = 0;
const typeRows = TYPES.map(([t, w]) => {
  const row = `('${t}', ${Math.floor((acc * 1000) / total)}, ${Math.floor(((acc + w) * 1000) / total)})`;
  acc += w;
  return row;
}).join(", ");

/** An event's outcome from its number's residue `o`: 5 % FAILURE, 1 % DENY. */
const OUTCOME = "CASE WHEN o < 92 THEN 'SUCCESS' WHEN o < 97 THEN 'FAILURE' WHEN o < 98 THEN 'DENY' ELSE 'ALLOW' END";

/**
 * Events [from, to) and their batches, generated inside SQLite: batch b (events (b-1)*20+1 … b*20) is received at
 * START + b * 20 * 216 ms, its events published over the 20 * 216 ms before. Written as ingest writes them
 * (migrations/0010): each batch with its uuid list, one batch_types row per type it holds and one batch_failures
 * row per failed outcome; a chunk holds whole batches (CHUNK is a multiple of BATCH).
 */
function chunkSql(from, to) {
  const window = BATCH * EVENT_SPACING_MS;
  const rows = `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${to}),
types(name, lo, hi) AS (VALUES ${typeRows}),
e AS (SELECT i, (i * 40503) % 100 AS o, (i * 7919) % 5000 AS a, (i - 1) / ${BATCH} + 1 AS b, t.name AS type,
             ${START} + ((i - 1) / ${BATCH} + 1) * ${window} AS r,
             ${START} + ((i - 1) / ${BATCH} + 1) * ${window} - (${BATCH} - (i - 1) % ${BATCH}) * ${EVENT_SPACING_MS} AS p
      FROM n JOIN types t ON (i * 2654435761) % 1000 >= t.lo AND (i * 2654435761) % 1000 < t.hi),
x AS (SELECT *, printf('{"uuid":"bench-%d","eventType":"%s","published":"%s","actor":{"id":"00u%05d","type":"User","alternateId":"user%d@acme.example"},"target":[{"id":"00g%d","type":"UserGroup"}],"debugContext":{"debugData":{"requestUri":"/idp/idx/identify","pad":"%s"}}}',
                     i, type, strftime('%Y-%m-%dT%H:%M:%fZ', p / 1000.0, 'unixepoch'), a, a, i % 300, substr(hex(zeroblob(150)), 1, 300)) AS text FROM e),
y AS (SELECT *, coalesce(sum(length(text)) OVER (PARTITION BY b ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS off FROM x)`;
  // Payloads stored plain, as ingest stores them (the cron's compaction compresses them later).
  return `
${rows}
INSERT INTO events (id, uuid, event_type, published, actor_id, actor_alternate_id, outcome_result, severity, batch_id, received_at, forward, payload_offset, payload_bytes)
SELECT i, 'bench-' || i, type, p, printf('00u%05d', a), printf('user%d@acme.example', a), ${OUTCOME}, 'INFO',
       b, r, CASE WHEN i % 5 = 0 THEN 2 ELSE 1 END, off, length(text)
FROM y ORDER BY 2;
${rows}
INSERT INTO event_payloads (batch_id, data) SELECT b, CAST(group_concat(text, '' ORDER BY i) AS BLOB) FROM y GROUP BY b;
${rows}
INSERT INTO event_batches (id, first_event_id, event_count, received_at, okta_org, event_hook_id, envelope_event_id, uuids)
SELECT b, min(i), count(*), r, 'acme.okta.com', 'whoBench', 'env-' || min(i), json_group_array('bench-' || i ORDER BY i)
FROM e GROUP BY b ORDER BY b;
${rows}
INSERT INTO batch_types (event_type, batch_id) SELECT DISTINCT type, b FROM e ORDER BY 1, 2;
${rows}
INSERT INTO batch_failures (outcome_result, batch_id)
SELECT DISTINCT ${OUTCOME} AS outcome, b FROM e WHERE outcome IN ('FAILURE', 'DENY') ORDER BY 1, 2;`;
}

async function storedEvents() {
  const out = await d1("SELECT count(*) AS n FROM events");
  return JSON.parse(out.slice(out.indexOf("[")))[0].results[0].n;
}

async function buildDatabase() {
  mkdirSync(DB_DIR, { recursive: true });
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", DB_DIR]);
  const have = await storedEvents();
  if (have >= EVENTS) return console.log(`using ${DB_DIR}: ${have} events`);
  if (have > 0) throw new Error(`${DB_DIR} holds ${have} events, not ${EVENTS}: remove it to rebuild`);
  console.log(`building ${EVENTS} events in ${DB_DIR} …`);
  const started = Date.now();
  for (let from = 1; from <= EVENTS; from += CHUNK) {
    await d1(chunkSql(from, Math.min(EVENTS + 1, from + CHUNK)));
    console.log(`  ${Math.min(EVENTS, from + CHUNK - 1)} events (${Math.round((Date.now() - started) / 1000)} s)`);
  }
}

const iso = (ms) => new Date(ms).toISOString();
const middle = START + Math.floor(EVENTS / 2) * EVENT_SPACING_MS;
const SEARCHES = [
  ["newest 50", "limit=50"],
  ["exact type", "type=user.session.start&limit=50"],
  ["type prefix, narrow (merged batch_types streams)", "type=user.lifecycle.*&limit=50"],
  ["type prefix, broad (a walk of every batch)", "type=user.*&limit=50"],
  ["actor id", "actor=00u00042&limit=50"],
  ["actor alternateId", "actor=user42%40acme.example&limit=50"],
  ["outcome FAILURE (batch_failures)", "outcome=FAILURE&limit=50"],
  ["published time range (1 h)", `since=${iso(middle)}&until=${iso(middle + 3_600_000)}&limit=50`],
  ["time range + exact type", `type=user.session.start&since=${iso(middle)}&until=${iso(middle + 3_600_000)}&limit=50`],
  ["target id (payload)", "target=00g7&limit=50"],
];

function logLine(output, requestId) {
  for (const line of output.split("\n").reverse()) {
    if (!line.includes(requestId) || !line.startsWith("{")) continue;
    try {
      const parsed = JSON.parse(line);
      if (parsed.msg === "request" && parsed.requestId === requestId) return parsed;
    } catch {
      // not ours
    }
  }
  return null;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main() {
  await buildDatabase();
  const gw = await startGateway({ persistTo: DB_DIR });
  const results = [];
  try {
    for (const [name, query] of SEARCHES) {
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        let cursor = null;
        for (const pageNumber of [1, 2]) {
          const url = `${gw.baseUrl}/admin/api/events?${query}${cursor ? `&cursor=${cursor}` : ""}`;
          const started = performance.now();
          const res = await fetch(url, { headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
          const body = await res.json();
          const clientMs = performance.now() - started;
          if (res.status !== 200) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            const line = logLine(gw.output(), res.headers.get("x-request-id"));
            throw new Error(`${name}: ${res.status} ${JSON.stringify(body)} ${line ? JSON.stringify(line) : gw.output().slice(-3000)}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
          const line = logLine(gw.output(), res.headers.get("x-request-id"));
          rounds.push({ page: pageNumber, clientMs, workerMs: line?.ms ?? null, rowsRead: line?.d1RowsRead ?? null, events: body.events.length });
          cursor = body.nextCursor;
          if (!cursor) break;
        }
      }
      const pick = (page, key) => rounds.filter((x) => x.page === page && x[key] !== null).map((x) => x[key]);
      results.push({ name, query, rounds, page1: { clientMs: median(pick(1, "clientMs")), workerMs: median(pick(1, "workerMs")), rowsRead: median(pick(1, "rowsRead")), events: median(pick(1, "events")) }, page2: { workerMs: median(pick(2, "workerMs")), rowsRead: median(pick(2, "rowsRead")), events: median(pick(2, "events")) } });
      console.log(`${name}: done`);
    }
  } finally {
    await gw.stop();
  }
  const table = [
    `Event search on ${EVENTS.toLocaleString("en")} events (local D1, wrangler dev), median of ${ROUNDS}:`,
    "",
    "| search | events on page 1 | page 1 client / in Worker ms | page 1 D1 rows read | page 2 in Worker ms | page 2 rows read |",
    "|---|---|---|---|---|---|",
    ...results.map((r) => `| ${r.name} | ${r.page1.events} | ${Math.round(r.page1.clientMs)} / ${r.page1.workerMs ?? "?"} | ${r.page1.rowsRead ?? "?"} | ${r.page2.workerMs ?? "–"} | ${r.page2.rowsRead ?? "–"} |`),
  ].join("\n");
  console.log(`\n${table}`);
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify({ events: EVENTS, rounds: ROUNDS, results }, null, 2));
}

if (!existsSync(WRANGLER)) throw new Error("run npm install first");
await main();
