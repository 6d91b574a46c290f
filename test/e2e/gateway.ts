/**
 * Starts the real Worker for end-to-end tests the way an operator does: `wrangler d1 migrations apply --local`,
 * then `wrangler dev` on 127.0.0.1 with local D1, Queues and cron, in a fresh persistence directory, and waits
 * until /healthz answers. Tests then talk plain HTTP to it, as Okta would.
 *
 * wrangler runs in its own process group (detached) and is stopped with the whole group, so no workerd is left
 * behind. Configuration is passed with `--var` (they override any developer `.dev.vars`). A gateway can also be
 * crashed (SIGKILL) and started again on the same persistence directory, as a Worker restart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ConfigVars } from "../../src/config-vars";
import { isolatedConfig } from "../test-config.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");

const OFFLINE_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_UPDATE_NOTIFIER: "1",
  // The Node 22 that npm installed (wrangler refuses Node 20).
  PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
};

export const E2E_EVENT_SECRET = "e2e-event-hook-secret";
export const E2E_INLINE_SECRET = "e2e-inline-hook-secret";
export const E2E_ADMIN_TOKEN = "e2e-admin-token";
/** Base64 of "okta-hooks-edge-e2e-key-32bytes!": seals destination secrets in the e2e gateway's D1. */
export const E2E_SECRETS_ENCRYPTION_KEY = "b2t0YS1ob29rcy1lZGdlLWUyZS1rZXktMzJieXRlcyE=";

export interface Gateway {
  baseUrl: string;
  /** wrangler's inspector proxy (DevTools protocol at ws://127.0.0.1:<port>/ws; bench/profile.mjs takes CPU profiles through it). */
  inspectorPort: number;
  /** The local state directory (wrangler's --persist-to): local D1's SQLite file and R2 live there; queues are in memory only. */
  persistTo: string;
  /** Everything wrangler printed so far (the Worker's log lines included). */
  output(): string;
  /** Run SQL against the gateway's local D1 (wrangler d1 execute --local), returning the rows. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Trigger the cron handler once, as Cloudflare would. */
  runScheduled(cron?: string): Promise<Response>;
  stop(): Promise<void>;
  /** Kill wrangler dev and workerd at once (SIGKILL), as a crash: nothing is flushed, the persisted state stays. */
  crash(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Run wrangler (offline, with the project's Node 22) and resolve to what it printed. */
export function runWrangler(args: string[], cwd = ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER, args, { cwd, env: OFFLINE_ENV, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

async function waitForHealth(baseUrl: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200 || res.status === 503) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become ready in ${timeoutMs} ms:\n${output()}`);
}

export interface StartOptions {
  /** Extra or overriding configuration (vars and secrets alike). */
  vars?: ConfigVars;
  /** A wrangler config other than the repository's wrangler.toml (e.g. the benchmark's variant of it). */
  config?: string;
  /** Serve this existing persistence directory (a restart on the same state); the caller removes it. */
  persistTo?: string;
  /** Listen on this port (e.g. the one a crashed gateway used) instead of a free one. */
  port?: number;
}

export async function startGateway(options: StartOptions = {}): Promise<Gateway> {
  const ownsState = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-e2e-"));
  const configArgs = options.config ? ["--config", options.config] : [];
  await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, ...configArgs], ROOT);
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  // Every configuration name is passed, blank when unset, so a developer's .dev.vars cannot leak into a test.
  const vars: Record<string, string> = isolatedConfig({
    EVENT_HOOK_SECRETS: E2E_EVENT_SECRET,
    INLINE_HOOK_SECRETS: E2E_INLINE_SECRET,
    ADMIN_TOKEN: E2E_ADMIN_TOKEN,
    SECRETS_ENCRYPTION_KEY: E2E_SECRETS_ENCRYPTION_KEY,
    ...options.vars,
  });
  const args = [
    "dev",
    "--local",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--persist-to", persistTo,
    ...configArgs,
    "--show-interactive-dev-session=false",
    "--log-level", "log",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: OFFLINE_ENV, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const output = () => out;
  const baseUrl = `http://127.0.0.1:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const end = async (signal: NodeJS.Signals) => {
    if (running() && child.pid !== undefined) {
      const exited = new Promise((r) => child.once("exit", r));
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (running()) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  };
  const stop = async () => {
    await end("SIGTERM");
    if (ownsState) rmSync(persistTo, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, output, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const query = async <T,>(sql: string): Promise<T[]> => {
    const out = await runWrangler(["d1", "execute", "DB", "--local", "--persist-to", persistTo, ...configArgs, "--json", "--command", sql], ROOT);
    const parsed = JSON.parse(out.slice(out.indexOf("["))) as Array<{ results: T[] }>;
    return parsed.flatMap((r) => r.results);
  };
  return {
    baseUrl,
    inspectorPort,
    persistTo,
    output,
    query,
    runScheduled: (cron = "*/5 * * * *") =>
      fetch(`${baseUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`),
    stop,
    crash: () => end("SIGKILL"),
  };
}

/** A call to the gateway's admin API with the e2e admin token. */
export function adminRequest(gw: Gateway, method: string, urlPath: string, body?: unknown): Promise<Response> {
  return fetch(`${gw.baseUrl}/admin/api${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Poll `check` until it returns true: at most `timeoutMs` and `rounds` rounds. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000, rounds = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
