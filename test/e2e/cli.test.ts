/**
 * End to end: the admin CLI (tools/cli/, as `okta-hooks-edge` would run it: a separate Node process) against the
 * real Worker under `wrangler dev` with local D1 and Queues, and a receiver on 127.0.0.1. An operator creates a
 * destination whose receiver refuses, Okta delivers two events, the operator finds them, backfills a destination
 * created later (dry run, then the replay followed to its end), redrives the dead letters once the receiver is
 * fixed (one, then all as a followed job), reads the stats, finds the inline hook calls Okta made and their figures; `--json` output parses; a wrong token is exit 1 with a
 * clear message, an unreachable gateway exit 3, bad usage exit 2. Every wait and every CLI run is bounded.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, E2E_INLINE_SECRET, freePort, startGateway, waitFor, type Gateway } from "./gateway.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const FIXTURES = path.join(ROOT, "test/fixtures/okta");
const SESSION_START = readFileSync(path.join(FIXTURES, "event-hook.delivery.user-session-start.json"), "utf8");
const LIFECYCLE_CREATE = readFileSync(path.join(FIXTURES, "captured/event-hook.delivery.user-lifecycle-create.json"), "utf8");
const UUID = { session: "f1d0b993-cc19-11ed-a688-db22c99ef6c4", create: "9191ef7a-f669-11e9-b9b3-fd3a55cb1b10" };

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI in its own process (at most 90 s), with the admin token in its environment only. */
function cli(args: string[], options: { token?: string; entry?: string; node?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const entry = options.entry ?? path.join(ROOT, "tools/cli/main.ts");
    const child = spawn(options.node ?? process.execPath, [entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, OKTA_HOOKS_EDGE_TOKEN: options.token ?? E2E_ADMIN_TOKEN, NO_COLOR: "1", FORCE_COLOR: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Records every request per path; /broken answers 400 until `fixed`. */
class Receiver {
  readonly requests: Array<{ path: string; uuid: string; status: number; webhookId: string }> = [];
  fixed = false;
  port = 0;
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const routePath = (req.url ?? "/").split("?")[0]!;
        let uuid = "";
        try {
          uuid = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: { uuid: string } }).data.uuid;
        } catch {
          // recorded without a uuid
        }
        const status = routePath === "/broken" && !this.fixed ? 400 : 204;
        this.requests.push({ path: routePath, uuid, status, webhookId: String(req.headers["webhook-id"] ?? "") });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  accepted(routePath: string): string[] {
    return this.requests.filter((r) => r.path === routePath && r.status < 300).map((r) => r.uuid);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe("the admin CLI against the real Worker", () => {
  const receiver = new Receiver();
  let gw: Gateway;
  const ids: Record<string, string> = {};
  const run = (args: string[], options?: Parameters<typeof cli>[1]) => cli(["--url", gw.baseUrl, ...args], options);
  const json = async <T,>(args: string[]): Promise<T> => {
    const r = await run(["--json", ...args]);
    expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    await receiver.start();
    gw = await startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1" } });
  }, 150_000);

  afterAll(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  it("creates a destination (its secret printed once), and lists it in a table", async () => {
    const created = await json<{ id: string; secret: string; state: string }>([
      "destinations", "create", "--name", "broken", "--endpoint", `http://127.0.0.1:${receiver.port}/broken`, "--event-types", "user.*",
    ]);
    expect(created.id).toMatch(/^dst_[0-9a-f]{20}$/);
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.state).toBe("active");
    ids.broken = created.id;
    const table = await run(["destinations", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATE\s+FORMAT/);
    expect(table.stdout).toMatch(new RegExp(`${created.id}\\s+broken\\s+active\\s+standard\\s+user\\.\\*`));
  });

  it("finds the events Okta delivered: a search with a filter, and one event with where it went", async () => {
    for (const body of [SESSION_START, LIFECYCLE_CREATE]) {
      const res = await fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json" }, body });
      expect(res.status).toBe(204);
    }
    await waitFor(() => receiver.requests.filter((r) => r.path === "/broken").length >= 2, "first attempts to the broken receiver");

    const lifecycle = await json<{ events: Array<{ uuid: string }>; nextCursor: string | null }>(["events", "search", "--type", "user.lifecycle.*"]);
    expect(lifecycle.events.map((e) => e.uuid)).toEqual([UUID.create]);
    const all = await json<{ events: Array<{ uuid: string }> }>(["events", "search", "--all", "--limit", "1"]);
    expect(all.events.map((e) => e.uuid)).toEqual([UUID.create, UUID.session]);
    const human = await run(["events", "search"]);
    expect(human.stdout).toMatch(/user\.session\.start\s+SUCCESS/);

    await waitFor(async () => (await json<{ deliveries: Array<{ state: string }> }>(["events", "get", UUID.session])).deliveries[0]?.state === "dead", "a dead delivery");
    const detail = await run(["events", "get", UUID.session]);
    expect(detail.stdout).toMatch(/broken\s+dead\s+1\s+400/);
  });

  it("backfills a destination created later: a dry run's counts, then the replay followed to its end", async () => {
    const late = await json<{ id: string }>(["destinations", "create", "--name", "late", "--endpoint", `http://127.0.0.1:${receiver.port}/late`]);
    ids.late = late.id;
    const dry = await json<{ events: number; destinations: Array<{ destinationId: string; events: number }> }>([
      "replay", "--every-event", "--destination", late.id, "--dry-run",
    ]);
    expect(dry.events).toBe(2);
    expect(dry.destinations).toEqual([expect.objectContaining({ destinationId: late.id, events: 2 })]);
    expect(receiver.accepted("/late")).toEqual([]);

    const replay = await run(["replay", "--every-event", "--destination", late.id, "--rate", "100"]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/state:\s+finished/);
    expect(replay.stdout).toMatch(/delivered:\s+2/);
    expect(replay.stderr).toMatch(/job_\d+ (running|finished): /);
    expect(receiver.accepted("/late").sort()).toEqual([UUID.create, UUID.session].sort());

    const jobs = await json<{ jobs: Array<{ id: string; state: string }> }>(["replay", "status"]);
    expect(jobs.jobs[0]!.state).toBe("finished");
    const status = await run(["replay", "status", jobs.jobs[0]!.id]);
    expect(status.stdout).toMatch(/kind:\s+replay/);
  });

  it("redrives the dead letters once the receiver is fixed: one, then all of the destination as a followed job", async () => {
    const letters = await json<{ deadLetters: Array<{ eventUuid: string }> }>(["dead-letters", "list", "--destination", ids.broken!]);
    expect(letters.deadLetters.map((l) => l.eventUuid).sort()).toEqual([UUID.create, UUID.session].sort());
    const shown = await run(["dead-letters", "show", ids.broken!, UUID.session]);
    expect(shown.stdout).toContain("permanent failure: HTTP 400");

    receiver.fixed = true;
    const one = await run(["dead-letters", "redrive", ids.broken!, UUID.session]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain(`Redriven: ${UUID.session}`);
    await waitFor(() => receiver.accepted("/broken").includes(UUID.session), "the redriven delivery");

    const all = await run(["dead-letters", "redrive", ids.broken!, "--all"]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/kind:\s+redrive/);
    expect(all.stdout).toMatch(/state:\s+finished/);
    expect(receiver.accepted("/broken").sort()).toEqual([UUID.create, UUID.session].sort());
    expect((await json<{ deadLetters: unknown[] }>(["dead-letters", "list"])).deadLetters).toEqual([]);
  });

  it("reads the stats, as JSON and as text", async () => {
    const overview = await json<{ events: { receivedLast24Hours: number }; d1: { limitBytes: number } }>(["stats"]);
    expect(overview.events.receivedLast24Hours).toBe(2);
    const deliveries = await json<{ destinations: Array<{ destinationId: string; delivered: number }> }>(["stats", "deliveries"]);
    expect(deliveries.destinations.find((d) => d.destinationId === ids.late)?.delivered).toBe(2);
    const text = await run(["stats", "events"]);
    expect(text.stdout).toMatch(/^2 events received from/);
  });

  it("finds the inline hook calls Okta made, and their decisions and latency per type", async () => {
    for (const name of ["token-hook.request.json", "registration-hook.request.ssr.json", "token-hook.request.json"]) {
      const type = name.split("-")[0]!;
      const res = await fetch(`${gw.baseUrl}/hooks/inline/${type}`, {
        method: "POST",
        headers: { authorization: E2E_INLINE_SECRET, "content-type": "application/json" },
        body: readFileSync(path.join(FIXTURES, name), "utf8"),
      });
      expect(res.status, name).toBe(204);
    }
    // The audit is written within INLINE_AUDIT_FLUSH_MS (1 s) of each call.
    let page: { calls: Array<{ type: string; decision: string; decidedBy: string }> } = { calls: [] };
    await waitFor(async () => {
      page = await json<typeof page>(["inline-calls"]);
      return page.calls.length === 3;
    }, "three inline hook calls in the audit");
    expect(page.calls.map((c) => [c.type, c.decision, c.decidedBy]).sort()).toEqual([
      ["registration", "empty", "default"],
      ["token", "empty", "default"],
      ["token", "empty", "default"],
    ]);
    const tokens = await run(["inline-calls", "--type", "token", "--decided-by", "default"]);
    expect(tokens.code, tokens.stderr).toBe(0);
    expect(tokens.stdout.split("\n")[0]).toMatch(/^RECEIVED\s+TYPE\s+DECISION\s+DECIDED BY/);
    expect(tokens.stdout.split("\n").filter((line) => /\btoken\s+empty\s+default\b/.test(line))).toHaveLength(2);
    const stats = await json<{ types: Array<{ type: string; calls: number; latencyMs: { sample: number } | null }> }>(["stats", "inline"]);
    expect(stats.types.find((t) => t.type === "token")).toMatchObject({ calls: 2, latencyMs: { sample: 2 } });
    expect(stats.types.find((t) => t.type === "registration")?.calls).toBe(1);
    const text = await run(["stats", "inline", "--type", "token"]);
    expect(text.stdout).toMatch(/^Inline hook calls from .*\nTYPE\s+CALLS\s+DECISIONS[^\n]*\ntoken\s+2\s+empty 2\s+default 2/);
    const refused = await run(["inline-calls", "--fallback-reason", "timeout"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/invalid_query \(HTTP 400\): fallbackReason: must be one of deadline/);
  });

  it("says clearly what went wrong: a wrong token (1), an unreachable gateway (3), bad usage (2)", async () => {
    const wrong = await run(["destinations", "list"], { token: "not-the-token" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the gateway refused the admin token (401 unauthorized)");
    expect(wrong.stdout).toBe("");
    const refused = await run(["destinations", "get", "dst_00000000000000000000"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("not_found (HTTP 404): No destination with this id.");
    const unreachable = await cli(["--url", `http://127.0.0.1:${await freePort()}`, "stats"]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const usage = await run(["replay"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("say what to replay");
  });

  it("runs as the package's bin, on this Node and on the system's older one", async () => {
    const bin = path.join(ROOT, "tools/cli/bin.mjs");
    const direct = await cli(["--url", gw.baseUrl, "--json", "destinations", "list"], { entry: bin });
    expect(direct.code, direct.stderr).toBe(0);
    expect((JSON.parse(direct.stdout) as { destinations: unknown[] }).destinations).toHaveLength(2);
    // CI and developer machines have a system Node 20 (docs/development.md): the bin hands over to Node 22.
    const systemNode = "/usr/bin/node";
    expect(existsSync(systemNode)).toBe(true);
    const relayed = await cli(["--url", gw.baseUrl, "--json", "destinations", "list"], { entry: bin, node: systemNode });
    expect(relayed.code, relayed.stderr).toBe(0);
    expect((JSON.parse(relayed.stdout) as { destinations: unknown[] }).destinations).toHaveLength(2);
  });
});
