/**
 * Runs the project's Cloudflare tools (`scripts/setup.ts`, `deploy.ts`, `secrets.ts`) as `npm run …` would, on
 * the project's Node 22, with test/tooling/fake-wrangler.ts as the only `wrangler` on PATH and a fresh fake
 * account per test. Every run is bounded in time; the account, the call log and the temporary bin directory are
 * removed by `cleanup()`.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FakeAccount, FakeCall } from "./fake-wrangler.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const NODE_BIN = path.join(ROOT, "node_modules", ".bin");
const NODE = path.join(NODE_BIN, "node");
const FAKE = path.join(ROOT, "test", "tooling", "fake-wrangler.ts");
const RUN_TIMEOUT_MS = 60_000;

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Piped to the tool's stdin. */
  input?: string;
  /** Extra environment variables (CI is removed unless given here). */
  env?: Record<string, string>;
}

export interface FakeCloudflare {
  dir: string;
  account(): FakeAccount;
  calls(): FakeCall[];
  /** Runs scripts/<tool>.ts with the given arguments (and stdin, piped when given). */
  run(tool: "setup" | "deploy" | "secrets", args?: string[], options?: RunOptions): Promise<ToolRun>;
  /** Forgets the calls so far (the account stays). */
  clearCalls(): void;
  cleanup(): void;
}

export function emptyAccount(overrides: Partial<FakeAccount> = {}): FakeAccount {
  return { loggedIn: true, databases: [], queues: [], workers: {}, migrated: {}, failures: {}, ...overrides };
}

export function fakeCloudflare(account: FakeAccount = emptyAccount()): FakeCloudflare {
  const dir = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-fake-wrangler-"));
  const bin = path.join(dir, "bin");
  const statePath = path.join(dir, "account.json");
  const logPath = path.join(dir, "calls.jsonl");
  writeFileSync(statePath, JSON.stringify(account));
  writeFileSync(logPath, "");
  // A shell shim, so the fake runs on the project's Node 22 whatever `node` is first on PATH.
  const shim = `#!/bin/sh\nexec "${NODE}" "${FAKE}" "$@"\n`;
  mkdirSync(bin);
  writeFileSync(path.join(bin, "wrangler"), shim);
  chmodSync(path.join(bin, "wrangler"), 0o755);

  return {
    dir,
    account: () => JSON.parse(readFileSync(statePath, "utf8")) as FakeAccount,
    calls: () =>
      readFileSync(logPath, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as FakeCall),
    clearCalls: () => writeFileSync(logPath, ""),
    run: (tool, args = [], options = {}) =>
      new Promise<ToolRun>((resolve, reject) => {
        // As an operator's terminal would run them: .ci/run sets CI, which `npm run secrets` refuses.
        const env: NodeJS.ProcessEnv = { ...process.env };
        delete env.CI;
        Object.assign(env, options.env);
        const child = spawn(NODE, [path.join(ROOT, "scripts", `${tool}.ts`), ...args], {
          cwd: ROOT,
          env: {
            ...env,
            PATH: `${bin}${path.delimiter}${NODE_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
            FAKE_WRANGLER_STATE: statePath,
            FAKE_WRANGLER_LOG: logPath,
            FORCE_COLOR: "0",
            NO_COLOR: "1",
          },
          stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? 1, stdout, stderr });
        });
        child.stdin.end(options.input ?? "");
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
