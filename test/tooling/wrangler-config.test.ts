/**
 * wrangler.toml as wrangler itself reads it (the real wrangler, offline):
 * - worker-configuration.d.ts is exactly what `npm run types` generates today, byte for byte, and a local
 *   `.dev.vars` or `.env` cannot change it (secrets are declared, not inferred);
 * - `npm run types:check` (what .ci/run runs) passes on the committed file and fails on a stale one;
 * - with [secrets] required, `wrangler dev` takes from `.dev.vars` the declared secrets and [vars] overrides and
 *   nothing else (what `npm start` writes is all declared);
 * - the Worker bundles with `wrangler deploy --dry-run --outdir` without a database id or an account;
 * - the D1 queries docs/okta-setup.md gives for the remote database run on the migrated schema (locally).
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { unstable_getVarsForDev, unstable_readConfig } from "wrangler";
import { ROOT } from "./harness.ts";

const run = promisify(execFile);
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
const OFFLINE_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_UPDATE_NOTIFIER: "1",
  PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
};
const TIMEOUT_MS = 90_000;

const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** wrangler's exit code and output; never throws on a non-zero exit. */
async function wrangler(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(WRANGLER, args, { cwd, env: OFFLINE_ENV, timeout: TIMEOUT_MS });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("generated types", () => {
  it("npm run types, run where a .dev.vars and a .env hold other names, writes the committed file byte for byte", async () => {
    const [command, ...args] = scripts.types!.split(" ");
    expect(command).toBe("wrangler");
    expect(args.slice(0, 1)).toEqual(["types"]);
    const dir = tempDir("okta-hooks-edge-types-");
    copyFileSync(path.join(ROOT, "wrangler.toml"), path.join(dir, "wrangler.toml"));
    writeFileSync(path.join(dir, ".dev.vars"), "EVENT_HOOK_SECRETS=dev\nSOME_LOCAL_SECRET=x\n");
    writeFileSync(path.join(dir, ".env"), "ANOTHER_LOCAL_NAME=y\n");
    const generated = await wrangler(args, dir);
    expect(generated.output).toContain("Types written to worker-configuration.d.ts");
    expect(generated.code).toBe(0);
    expect(readFileSync(path.join(dir, "worker-configuration.d.ts"), "utf8")).toBe(
      readFileSync(path.join(ROOT, "worker-configuration.d.ts"), "utf8"),
    );
  });

  it("npm run types:check passes on the committed file and fails once wrangler.toml declares something new", async () => {
    expect(scripts["types:check"]).toBe("npm run types -- --check");
    const [, ...args] = `${scripts.types} --check`.split(" ");
    const current = await wrangler(args, ROOT);
    expect(current.output).toContain("Types at worker-configuration.d.ts are up to date.");
    expect(current.code).toBe(0);

    const dir = tempDir("okta-hooks-edge-types-stale-");
    const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
    writeFileSync(path.join(dir, "wrangler.toml"), toml.replace(/^\[vars\]$/m, '[vars]\nA_NEW_VAR = "x"'));
    copyFileSync(path.join(ROOT, "worker-configuration.d.ts"), path.join(dir, "worker-configuration.d.ts"));
    const stale = await wrangler(args, dir);
    expect(stale.output).toContain("Types at worker-configuration.d.ts are out of date.");
    expect(stale.code).not.toBe(0);
  });
});

describe("wrangler dev's configuration under [secrets] required", () => {
  it("reads the declared secrets and the [vars] overrides from .dev.vars, and ignores undeclared names", () => {
    const dir = tempDir("okta-hooks-edge-dev-vars-");
    const configPath = path.join(dir, "wrangler.toml");
    copyFileSync(path.join(ROOT, "wrangler.toml"), configPath);
    // What `npm start` writes (scripts/start.mjs), plus a name nothing declares.
    writeFileSync(
      path.join(dir, ".dev.vars"),
      [
        "EVENT_HOOK_SECRETS=dev-event",
        "INLINE_HOOK_SECRETS=dev-inline",
        "ADMIN_TOKEN=dev-admin",
        `SECRETS_ENCRYPTION_KEY=${Buffer.alloc(32, 3).toString("base64")}`,
        "ALLOW_INSECURE_DESTINATIONS=true",
        "NOT_DECLARED_ANYWHERE=x",
      ].join("\n"),
    );
    const config = unstable_readConfig({ config: configPath }) as {
      vars: Record<string, string>;
      secrets: { required: string[] };
      userConfigPath: string;
    };
    const bindings = unstable_getVarsForDev(config.userConfigPath, undefined, config.vars, undefined, true, config.secrets) as Record<
      string,
      { type: string; value: unknown }
    >;
    expect(bindings.EVENT_HOOK_SECRETS).toEqual({ type: "secret_text", value: "dev-event" });
    expect(bindings.ADMIN_TOKEN).toEqual({ type: "secret_text", value: "dev-admin" });
    expect(bindings.SECRETS_ENCRYPTION_KEY?.type).toBe("secret_text");
    expect(bindings.ALLOW_INSECURE_DESTINATIONS?.value).toBe("true");
    expect(bindings.IGNORE_ACTOR_IDS).toEqual({ type: "plain_text", value: "" });
    expect(bindings).not.toHaveProperty("NOT_DECLARED_ANYWHERE");
  });
});

describe("bundling without an account", () => {
  it("wrangler deploy --dry-run --outdir builds the Worker with its bindings and no database id", async () => {
    const outdir = tempDir("okta-hooks-edge-bundle-");
    const result = await wrangler(["deploy", "--dry-run", "--outdir", outdir], ROOT);
    expect(result.output).toContain("--dry-run: exiting now.");
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/env\.DB \(okta-hooks-edge\)\s+D1 Database/);
    expect(result.output).toMatch(/env\.FORWARD_QUEUE \(okta-hooks-edge-forward\)\s+Queue/);
    expect(result.output).toMatch(/env\.DEAD_LETTER_QUEUE \(okta-hooks-edge-forward-dlq\)\s+Queue/);
    expect(result.output).not.toContain("00000000-0000-0000-0000-000000000000");
    expect(existsSync(path.join(outdir, "index.js"))).toBe(true);
  });
});

describe("docs/okta-setup.md", () => {
  it("its D1 queries run against the migrated schema (here on a local database instead of --remote)", async () => {
    const doc = readFileSync(path.join(ROOT, "docs", "okta-setup.md"), "utf8");
    const queries = [...doc.matchAll(/wrangler d1 execute DB --remote --command "([^"]+)"/g)].map((m) => m[1]!);
    expect(queries.length).toBeGreaterThan(0);
    const persist = tempDir("okta-hooks-edge-doc-d1-");
    const migrated = await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], ROOT);
    expect(migrated.code, migrated.output).toBe(0);
    for (const sql of queries) {
      const result = await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", sql], ROOT);
      expect(result.code, `${sql}\n${result.output}`).toBe(0);
      expect(result.output).toContain('"success": true');
    }
  });
});
