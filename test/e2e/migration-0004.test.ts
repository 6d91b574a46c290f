/**
 * Migration 0004 moves a deployed gateway's events into batches without losing one: a local D1 is migrated to 0003,
 * given events in every forward state the old schema had, then migrated to 0004 with wrangler, as
 * `wrangler d1 migrations apply` does in production.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` };

let dir: string;

function wrangler(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER, [...args, "--config", path.join(dir, "wrangler.toml")], { cwd: dir, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

async function query<T>(sql: string): Promise<T[]> {
  const out = await wrangler(["d1", "execute", "DB", "--local", "--persist-to", path.join(dir, "state"), "--json", "--command", sql]);
  return (JSON.parse(out.slice(out.indexOf("["))) as Array<{ results: T[] }>).flatMap((r) => r.results);
}

const migrate = () => wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", path.join(dir, "state")]);

function addMigrations(predicate: (name: string) => boolean): void {
  for (const name of readdirSync(path.join(ROOT, "migrations")).filter(predicate)) {
    copyFileSync(path.join(ROOT, "migrations", name), path.join(dir, "migrations", name));
  }
}

const payload = (uuid: string) => `{"uuid":"${uuid}","eventType":"user.session.start","published":"2026-11-01T10:00:00.000Z","n":1e400,"s":"é"}`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-migration-"));
  mkdirSync(path.join(dir, "migrations"));
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    `name = "migration-test"\nmain = ${JSON.stringify(path.join(ROOT, "src/index.ts"))}\ncompatibility_date = "2026-11-01"\n` +
      `[[d1_databases]]\nbinding = "DB"\ndatabase_name = "okta-hooks-edge"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\nmigrations_dir = "migrations"\n`,
  );
  addMigrations((name) => name < "0004");
  await migrate();
  const rows = [
    ["aaaaaaaa-0000-4000-8000-000000000001", "pending"],
    ["aaaaaaaa-0000-4000-8000-000000000002", "enqueued"],
    ["aaaaaaaa-0000-4000-8000-000000000003", "fanned_out"],
    ["aaaaaaaa-0000-4000-8000-000000000004", "skipped"],
  ];
  await query(
    rows
      .map(
        ([uuid, state], i) =>
          `INSERT INTO events (uuid, event_type, published, actor_id, outcome_result, okta_org, event_hook_id, envelope_event_id, received_at, forward_state, payload)
           VALUES ('${uuid}', 'user.session.start', '2026-11-01T10:00:00.000Z', '00u1', 'SUCCESS', 'acme.okta.com', 'who1', 'env-${i}', ${1_700_000_000_000 + i}, '${state}', '${payload(uuid!)}');`,
      )
      .join("\n"),
  );
  addMigrations((name) => name.startsWith("0004"));
  await migrate();
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("migration 0004 on a gateway with stored events", () => {
  it("keeps every event with its columns, envelope facts and exact text, each in a batch of its own", async () => {
    const events = await query<Record<string, unknown>>(
      `SELECT e.uuid, e.published, e.forward, e.batch_id, b.okta_org, b.event_hook_id, b.envelope_event_id, b.first_event_id = e.id AS first,
              CAST(substr(p.data, e.payload_offset + 1, e.payload_bytes) AS TEXT) AS text
       FROM events e JOIN event_batches b ON b.id = e.batch_id JOIN event_payloads p ON p.batch_id = e.batch_id ORDER BY e.id`,
    );
    expect(events.map((e) => e.uuid)).toEqual(["1", "2", "3", "4"].map((n) => `aaaaaaaa-0000-4000-8000-00000000000${n}`));
    for (const [i, e] of events.entries()) {
      expect(e).toMatchObject({ published: Date.parse("2026-11-01T10:00:00.000Z"), okta_org: "acme.okta.com", event_hook_id: "who1", envelope_event_id: `env-${i}`, first: 1 });
      expect(e.text).toBe(payload(e.uuid as string));
    }
    expect(events.map((e) => e.forward)).toEqual([1, 1, 1, 0]);
    expect(new Set(events.map((e) => e.batch_id)).size).toBe(4);
  });

  it("puts what was not fanned out yet (pending, enqueued) in the outbox, and nothing else", async () => {
    const outbox = await query<{ uuid: string }>("SELECT e.uuid FROM forward_outbox o JOIN events e ON e.batch_id = o.batch_id ORDER BY e.id");
    expect(outbox.map((o) => o.uuid)).toEqual(["aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"]);
  });

  it("leaves the next ids where new deliveries expect them: after the migrated rows", async () => {
    const [ids] = await query<{ events: number; batches: number }>("SELECT (SELECT max(id) FROM events) AS events, (SELECT max(id) FROM event_batches) AS batches");
    expect(ids).toEqual({ events: 4, batches: 4 });
  });
});
