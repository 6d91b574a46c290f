/**
 * Migration 0010 (one row written per event) on a deployed gateway's events: a local D1 is migrated to 0009 and
 * given events as the earlier ingest left them — deliveries of several events with mixed types and FAILURE/DENY
 * outcomes, one whose repeated event took no row, one whose event an earlier retention purged, a payload compacted,
 * a batch still in the outbox — then the real Worker starts on it (`wrangler d1 migrations apply` brings it to
 * 0010, as in production) and serves them: every event by uuid and in the search, the outboxed batch fanned out,
 * each batch's uuid list, types and failed outcomes exactly what it stores, and new deliveries after every old id.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodePayload } from "../../src/storage/payload-codec";
import { adminRequest, E2E_EVENT_SECRET, startGateway, waitFor, type Gateway } from "./gateway.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` };

let dir: string;
let config: string;
let state: string;
let gw: Gateway | undefined;
let receiver: Server | undefined;
const received: string[] = [];

function wrangler(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER, [...args, "--config", config], { cwd: dir, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

function addMigrations(predicate: (name: string) => boolean): void {
  for (const name of readdirSync(path.join(ROOT, "migrations")).filter(predicate)) {
    copyFileSync(path.join(ROOT, "migrations", name), path.join(dir, "migrations", name));
  }
}

const query = <T>(sql: string): Promise<T[]> => gw!.query<T>(sql);

/** A compact LogEvent text (what Okta sends), with a byte beyond ASCII so offsets are bytes, not characters. */
function text(uuid: string, eventType: string, outcome: string): string {
  return `{"uuid":"${uuid}","eventType":"${eventType}","published":"2026-11-01T10:00:00.000Z","version":"0","severity":"INFO","actor":{"id":"00u1","type":"User","alternateId":"anaïs@example.com"},"outcome":{"result":"${outcome}"},"n":1e400}`;
}

interface OldEvent {
  uuid: string;
  type: string;
  outcome: string;
  /** Its id under the old schema; absent: in the delivery's payload but not stored (a repeat, or purged since). */
  id?: number;
}

const uuid = (n: number) => `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, "0")}`;
const SESSION = "user.session.start";
const CREATE = "user.lifecycle.create";
const SSO = "user.authentication.sso";
const LOCK = "user.account.lock";

/** Three deliveries as 0004–0009's ingest stored them (ids consecutive per delivery, duplicates taking none). */
const BATCHES: Array<{ id: number; firstEventId: number; forward: 1 | 2; compact: boolean; events: OldEvent[] }> = [
  {
    // Its second event was purged by an earlier retention (another one was held): the batch row stayed.
    id: 1,
    firstEventId: 1,
    forward: 2,
    compact: false,
    events: [
      { uuid: uuid(1), type: SESSION, outcome: "SUCCESS", id: 1 },
      { uuid: uuid(2), type: LOCK, outcome: "DENY" },
      { uuid: uuid(3), type: CREATE, outcome: "FAILURE", id: 3 },
      { uuid: uuid(4), type: SESSION, outcome: "SUCCESS", id: 4 },
    ],
  },
  {
    // Repeats the first event of batch 1 (stored once, so it took no id), then four new ones; payload compacted.
    id: 2,
    firstEventId: 5,
    forward: 2,
    compact: true,
    events: [
      { uuid: uuid(1), type: SESSION, outcome: "SUCCESS" },
      { uuid: uuid(5), type: SSO, outcome: "DENY", id: 5 },
      { uuid: uuid(6), type: SESSION, outcome: "FAILURE", id: 6 },
      { uuid: uuid(7), type: SSO, outcome: "DENY", id: 7 },
      { uuid: uuid(8), type: CREATE, outcome: "SUCCESS", id: 8 },
    ],
  },
  {
    // Not fanned out yet: in the outbox, its queue message lost (enqueued_at NULL), for the sweep to send.
    id: 3,
    firstEventId: 9,
    forward: 1,
    compact: false,
    events: [
      { uuid: uuid(9), type: SESSION, outcome: "SUCCESS", id: 9 },
      { uuid: uuid(10), type: CREATE, outcome: "SUCCESS", id: 10 },
    ],
  },
];
const STORED = BATCHES.flatMap((b) => b.events.filter((e) => e.id !== undefined).map((e) => ({ ...e, id: e.id!, batchId: b.id })));
const TEXT = new Map(BATCHES.flatMap((b) => b.events.map((e) => [e.uuid, text(e.uuid, e.type, e.outcome)] as const)));
const T0 = Date.UTC(2026, 10, 1, 10, 0, 5);

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The SQL that stores BATCHES at migration 0009. */
function seedSql(): string {
  const statements: string[] = [];
  for (const batch of BATCHES) {
    const receivedAt = T0 + batch.id * 1000;
    const parts = batch.events.map((e) => Buffer.from(TEXT.get(e.uuid)!, "utf8"));
    const utf8 = new Uint8Array(Buffer.concat(parts));
    const data = batch.compact ? encodePayload(utf8) : utf8;
    if (batch.compact) expect(data[0], "the payload is compressed").toBe(1);
    statements.push(
      `INSERT INTO event_batches (id, first_event_id, event_count, received_at, okta_org, event_hook_id, envelope_event_id, ingest_token)
       VALUES (${batch.id}, ${batch.firstEventId}, ${batch.events.length}, ${receivedAt}, 'acme.okta.com', 'who1', 'env-${batch.id}', ${batch.id * 7919});`,
      `INSERT INTO event_payloads (batch_id, data) VALUES (${batch.id}, X'${hex(data)}');`,
    );
    let offset = 0;
    for (const [i, e] of batch.events.entries()) {
      if (e.id !== undefined) {
        statements.push(
          `INSERT INTO events (id, uuid, event_type, published, actor_id, actor_alternate_id, outcome_result, severity, batch_id, received_at, forward, payload_offset, payload_bytes)
           VALUES (${e.id}, '${e.uuid}', '${e.type}', ${Date.parse("2026-11-01T10:00:00.000Z")}, '00u1', 'anaïs@example.com', '${e.outcome}', 'INFO', ${batch.id}, ${receivedAt}, ${batch.forward}, ${offset}, ${parts[i]!.byteLength});`,
        );
      }
      offset += parts[i]!.byteLength;
    }
  }
  statements.push(`INSERT INTO forward_outbox (batch_id, created_at, enqueued_at) VALUES (3, ${T0}, NULL);`);
  return statements.join("\n");
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-migration-0010-"));
  state = path.join(dir, "state");
  config = path.join(dir, "wrangler.toml");
  mkdirSync(path.join(dir, "migrations"));
  // The repository's configuration, its paths made absolute, its migrations those copied here so far; no build step
  // (the test run built the dashboard already).
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8")
    .replace(/^main = .*$/m, `main = ${JSON.stringify(path.join(ROOT, "src/index.ts"))}`)
    .replace(/^migrations_dir = .*$/m, `migrations_dir = ${JSON.stringify(path.join(dir, "migrations"))}`)
    .replace(/^directory = "dashboard\/dist"$/m, `directory = ${JSON.stringify(path.join(ROOT, "dashboard/dist"))}`)
    .replace(/^\[build\][\s\S]*?(?=^\[)/m, "");
  writeFileSync(config, toml);
  addMigrations((name) => name < "0010");
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
  writeFileSync(path.join(dir, "seed.sql"), seedSql());
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", state, "--file", path.join(dir, "seed.sql")]);

  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, "127.0.0.1", resolve));

  addMigrations((name) => name.startsWith("0010"));
  gw = await startGateway({ config, persistTo: state, vars: { ALLOW_INSECURE_DESTINATIONS: "true" } });
}, 240_000);

afterAll(async () => {
  await gw?.stop();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("migration 0010 on a gateway with stored events", () => {
  it("keeps every event readable by uuid, with its columns, envelope facts and Okta's exact text; a purged one stays gone", async () => {
    for (const e of STORED) {
      const res = await adminRequest(gw!, "GET", `/events/${e.uuid}`);
      expect(res.status, e.uuid).toBe(200);
      const body = await res.text();
      // The exact bytes, 1e400 and the non-ASCII alternateId included, spliced in as stored.
      expect(body, e.uuid).toContain(`"payload":${TEXT.get(e.uuid)},"deliveries"`);
      expect(JSON.parse(body.replace("1e400", "1"))).toMatchObject({
        uuid: e.uuid,
        eventType: e.type,
        outcomeResult: e.outcome,
        oktaOrg: "acme.okta.com",
        eventHookId: "who1",
        envelopeEventId: `env-${e.batchId}`,
        receivedAt: new Date(T0 + e.batchId * 1000).toISOString(),
      });
    }
    expect((await adminRequest(gw!, "GET", `/events/${uuid(2)}`)).status).toBe(404);
  });

  const newestFirst = [...STORED].sort((a, b) => b.id - a.id);

  /** Every uuid a search lists, following nextCursor (a page may be short while more match). */
  async function search(q: string, limit = 50): Promise<string[]> {
    const listed: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res = await adminRequest(gw!, "GET", `/events?limit=${limit}${q ? `&${q}` : ""}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status, q).toBe(200);
      const body = (await res.json()) as { events: Array<{ uuid: string }>; nextCursor: string | null };
      listed.push(...body.events.map((e) => e.uuid));
      cursor = body.nextCursor;
      if (cursor === null) return listed;
    }
    throw new Error(`search ${q}: more than 20 pages`);
  }

  it("lists every event in the search, newest first, across pages", async () => {
    expect(await search("", 4)).toEqual(newestFirst.map((e) => e.uuid));
  });

  it("finds them by type and by failed outcome (through batch_types and batch_failures)", async () => {
    expect(await search(`type=${SSO}`)).toEqual(newestFirst.filter((e) => e.type === SSO).map((e) => e.uuid));
    expect(await search(`type=${CREATE}`)).toEqual(newestFirst.filter((e) => e.type === CREATE).map((e) => e.uuid));
    expect(await search("outcome=FAILURE")).toEqual(newestFirst.filter((e) => e.outcome === "FAILURE").map((e) => e.uuid));
    expect(await search("outcome=DENY")).toEqual(newestFirst.filter((e) => e.outcome === "DENY").map((e) => e.uuid));
    expect(await search(`type=${LOCK}`)).toEqual([]);
  });

  it("lists in each batch exactly the uuids it stores, in id order, and exactly its distinct types and failed outcomes", async () => {
    const batches = await query<{ id: number; uuids: string }>("SELECT id, uuids FROM event_batches ORDER BY id");
    expect(batches.map((b) => [b.id, JSON.parse(b.uuids) as string[]])).toEqual(
      BATCHES.map((b) => [b.id, STORED.filter((e) => e.batchId === b.id).map((e) => e.uuid)]),
    );
    const pairs = (rows: Array<{ value: string; batch_id: number }>) => rows.map((r) => `${r.value} ${r.batch_id}`).sort();
    const distinct = (values: string[]) => [...new Set(values)].sort();
    expect(pairs(await query("SELECT event_type AS value, batch_id FROM batch_types"))).toEqual(distinct(STORED.map((e) => `${e.type} ${e.batchId}`)));
    expect(pairs(await query("SELECT outcome_result AS value, batch_id FROM batch_failures"))).toEqual(
      distinct(STORED.filter((e) => e.outcome === "FAILURE" || e.outcome === "DENY").map((e) => `${e.outcome} ${e.batchId}`)),
    );
    // The schema the migration leaves: events keyed by uuid with no index, the helper index gone.
    const indexes = await query<{ name: string; tbl_name: string }>("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'event_batches') AND sql IS NOT NULL ORDER BY name");
    expect(indexes).toEqual([
      { name: "event_batches_first_event", tbl_name: "event_batches" },
      { name: "event_batches_received", tbl_name: "event_batches" },
    ]);
  });

  it("fans out the batch that was in the outbox, through its uuid list", async () => {
    const created = await adminRequest(gw!, "POST", "/destinations", { name: "after migration", url: `http://127.0.0.1:${(receiver!.address() as { port: number }).port}/all` });
    expect(created.status, await created.clone().text()).toBe(201);
    // The sweep sends the batch whose message was lost; fan-out routes it with the destinations as they are now.
    expect((await gw!.runScheduled("*/5 * * * *")).status).toBe(200);
    const sent = () => received.map((body) => (JSON.parse(body.replace("1e400", "1")) as { data: { uuid: string } }).data.uuid).sort();
    await waitFor(() => sent().length >= 2, "the outboxed batch's two events");
    expect(sent()).toEqual([uuid(9), uuid(10)]);
    await waitFor(async () => (await query<{ n: number }>("SELECT count(*) AS n FROM forward_outbox"))[0]!.n === 0, "the outbox emptied");
    expect(await query("SELECT batch_id, destination_id FROM batch_deliveries")).toEqual([{ batch_id: 3, destination_id: expect.any(String) }]);
  });

  it("gives a new delivery ids above every old one; an old uuid it repeats stays stored once, under its old id", async () => {
    const fresh = [`cccccccc-0000-4000-8000-000000000001`, `cccccccc-0000-4000-8000-000000000002`];
    const texts = [text(fresh[0]!, SESSION, "SUCCESS"), TEXT.get(uuid(3))!, text(fresh[1]!, LOCK, "DENY")];
    const envelope = (events: string[], eventId: string) =>
      `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://acme.okta.com/api/v1/eventHooks/who1","eventId":"${eventId}","data":{"events":[${events.join(",")}]},"eventTime":"2026-12-01T10:00:01.000Z","contentType":"application/json"}`;
    const post = (body: string) =>
      fetch(`${gw!.baseUrl}/hooks/events`, { method: "POST", headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json" }, body });
    expect((await post(envelope(texts, crypto.randomUUID()))).status).toBe(204);
    // Only old events: nothing stored, no batch.
    expect((await post(envelope([TEXT.get(uuid(5))!, TEXT.get(uuid(9))!], crypto.randomUUID()))).status).toBe(204);

    const rows = await query<{ uuid: string; id: number; batch_id: number }>(
      `SELECT uuid, id, batch_id FROM events WHERE uuid IN ('${fresh[0]}', '${fresh[1]}', '${uuid(3)}', '${uuid(5)}', '${uuid(9)}')`,
    );
    const byUuid = new Map(rows.map((r) => [r.uuid, r]));
    const oldMax = Math.max(...STORED.map((e) => e.id));
    // The newest old batch covered ids 9–10: the new batch starts right after, each event at its position in the
    // delivery (the repeated one leaves its id unused).
    expect(byUuid.get(fresh[0]!)).toMatchObject({ id: oldMax + 1, batch_id: 4 });
    expect(byUuid.get(fresh[1]!)).toMatchObject({ id: oldMax + 3, batch_id: 4 });
    expect(byUuid.get(uuid(3))).toMatchObject({ id: 3, batch_id: 1 });
    expect(byUuid.get(uuid(5))).toMatchObject({ id: 5, batch_id: 2 });
    expect(await query("SELECT count(*) AS n FROM events")).toEqual([{ n: STORED.length + 2 }]);
    const [batch] = await query<{ id: number; first_event_id: number; uuids: string }>("SELECT id, first_event_id, uuids FROM event_batches WHERE id > 3");
    expect(await query("SELECT count(*) AS n FROM event_batches")).toEqual([{ n: 4 }]);
    expect(batch).toMatchObject({ id: 4, first_event_id: oldMax + 1 });
    expect(JSON.parse(batch!.uuids)).toEqual(fresh);
    expect(await query("SELECT event_type FROM batch_types WHERE batch_id = 4 ORDER BY event_type")).toEqual([{ event_type: LOCK }, { event_type: SESSION }]);
    expect(await query("SELECT outcome_result FROM batch_failures WHERE batch_id = 4")).toEqual([{ outcome_result: "DENY" }]);
    expect((await adminRequest(gw!, "GET", `/events/${fresh[1]}`)).status).toBe(200);
  });
});
