/**
 * `npm run secrets` against a fake wrangler: it generates strong values for the declared secrets the Worker lacks,
 * hands them to `wrangler secret bulk` as JSON on stdin (never in a command line, never in a file), never
 * replaces a value already set, prints each value once with where it goes in Okta, and rotates one secret by
 * putting a new value in front of the current one.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GATEWAY_SECRETS } from "../../scripts/secrets-values.ts";
import { readWorkerConfig } from "../../scripts/setup-wrangler.ts";
import type { FakeAccount } from "./fake-wrangler.ts";
import { emptyAccount, fakeCloudflare, ROOT, type FakeCloudflare } from "./harness.ts";

const NAMES = ["EVENT_HOOK_SECRETS", "INLINE_HOOK_SECRETS", "ADMIN_TOKEN", "SECRETS_ENCRYPTION_KEY"] as const;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

let cf: FakeCloudflare | undefined;
afterEach(() => cf?.cleanup());

function bulkCalls() {
  return cf!.calls().filter((call) => call.command === "secret bulk");
}

function occurrences(text: string, value: string): number {
  return text.split(value).length - 1;
}

/** Files under dir (two levels, skipping node_modules and .git) modified since `since`, excluding `skip`. */
function filesChangedSince(dir: string, since: number, skip: string, depth = 2): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry);
    if (full.startsWith(skip) || entry === "node_modules" || entry === ".git") return [];
    let stat;
    try {
      stat = statSync(full);
    } catch {
      return [];
    }
    if (stat.isDirectory()) return depth > 0 ? filesChangedSince(full, since, skip, depth - 1) : [];
    return stat.isFile() && stat.mtimeMs >= since && stat.size < 1_000_000 ? [full] : [];
  });
}

function readable(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

describe("npm run secrets", () => {
  it("declares what wrangler.toml requires: the secrets this tool generates are exactly [secrets] required", () => {
    expect(Object.keys(GATEWAY_SECRETS).sort()).toEqual([...NAMES].sort());
    expect(readWorkerConfig({}).requiredSecrets.sort()).toEqual([...NAMES].sort());
  });

  it("first run: generates all four, stores them in one wrangler secret bulk over stdin, prints each once", async () => {
    const started = Date.now();
    cf = fakeCloudflare(emptyAccount());
    const run = await cf.run("secrets");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(cf.calls().map((c) => c.command)).toEqual(["whoami", "secret list", "secret bulk"]);
    const [bulk] = bulkCalls();
    expect(bulk!.argv).toEqual(["secret", "bulk"]);
    const stored = JSON.parse(bulk!.stdin) as Record<string, string>;
    expect(Object.keys(stored).sort()).toEqual([...NAMES].sort());
    expect(stored.EVENT_HOOK_SECRETS).toMatch(TOKEN);
    expect(stored.INLINE_HOOK_SECRETS).toMatch(TOKEN);
    expect(stored.ADMIN_TOKEN).toMatch(TOKEN);
    expect(Buffer.from(stored.SECRETS_ENCRYPTION_KEY!, "base64")).toHaveLength(32);
    expect(new Set(Object.values(stored)).size).toBe(4);
    // The fake account now holds exactly those values (the Worker was created to hold them).
    expect(cf.account().workers[""]!.secrets).toEqual(stored);

    for (const value of Object.values(stored)) {
      expect(occurrences(run.stdout, value)).toBe(1);
      for (const call of cf.calls()) expect(call.argv.join(" ")).not.toContain(value);
    }
    expect(run.stdout).toContain("Shown once");
    expect(run.stdout).toContain(`Authentication field   authorization\n  Authentication secret  ${stored.EVENT_HOOK_SECRETS}`);
    expect(run.stdout).toContain(`Authentication secret  ${stored.INLINE_HOOK_SECRETS}`);
    expect(run.stdout).toContain(`Authorization: Bearer ${stored.ADMIN_TOKEN}`);
    expect(run.stdout).toContain("Worker okta-hooks-edge does not exist yet");

    // Nothing written to disk holds a value: not in the checkout, not in the temporary directory.
    const written = [...filesChangedSince(ROOT, started, cf.dir), ...filesChangedSince(tmpdir(), started, cf.dir)];
    for (const file of written) {
      const text = readable(file);
      for (const value of Object.values(stored)) expect(text.includes(value), `${file} holds a secret`).toBe(false);
    }
  });

  it("run again: everything is set, nothing is generated, stored or printed", async () => {
    cf = fakeCloudflare(emptyAccount());
    expect((await cf.run("secrets")).code).toBe(0);
    const stored = cf.account().workers[""]!.secrets;
    cf.clearCalls();
    const again = await cf.run("secrets");
    expect(again.code).toBe(0);
    expect(cf.calls().map((c) => c.command)).toEqual(["whoami", "secret list"]);
    expect(again.stdout).toContain("Nothing to generate");
    expect(cf.account().workers[""]!.secrets).toEqual(stored);
    for (const value of Object.values(stored)) expect(again.stdout).not.toContain(value);
  });

  it("only what is missing: an existing value is never replaced", async () => {
    const secrets = { EVENT_HOOK_SECRETS: "okta-uses-this", INLINE_HOOK_SECRETS: "and-this", ADMIN_TOKEN: "and-this-too" };
    cf = fakeCloudflare(emptyAccount({ workers: { "": { secrets, deployments: 1 } } }));
    const run = await cf.run("secrets");
    expect(run.code).toBe(0);
    const [bulk] = bulkCalls();
    const stored = JSON.parse(bulk!.stdin) as Record<string, string>;
    expect(Object.keys(stored)).toEqual(["SECRETS_ENCRYPTION_KEY"]);
    expect(cf.account().workers[""]!.secrets).toMatchObject(secrets);
    expect(run.stdout).toContain("already set (left as they are): EVENT_HOOK_SECRETS, INLINE_HOOK_SECRETS, ADMIN_TOKEN");
    expect(run.stdout).not.toContain("Okta event hooks");
    expect(run.stdout).toContain(stored.SECRETS_ENCRYPTION_KEY);
  });

  it("prints the header names wrangler.toml's [vars] configure for the environment", async () => {
    const config = readWorkerConfig({});
    expect(config.vars.EVENT_HOOK_AUTH_HEADER).toBe("authorization");
    cf = fakeCloudflare(emptyAccount());
    const run = await cf.run("secrets");
    expect(run.stdout.match(/Authentication field {3}authorization/g)).toHaveLength(2);
  });

  it("--dry-run says what it would generate and stores and prints no value", async () => {
    cf = fakeCloudflare(emptyAccount());
    const run = await cf.run("secrets", ["--dry-run"]);
    expect(run.code).toBe(0);
    expect(bulkCalls()).toEqual([]);
    expect(run.stdout).toContain(`Would generate and store on okta-hooks-edge: ${NAMES.join(", ")}`);
    expect(run.stdout).not.toContain("Shown once");
  });

  it("a failed bulk store prints no value and exits 1", async () => {
    cf = fakeCloudflare(emptyAccount({ failures: { "secret bulk": { code: 1, stderr: "✘ [ERROR] Authentication error [code: 10000]\n" } } }));
    const run = await cf.run("secrets");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Storing the secrets failed");
    expect(run.stdout).not.toContain("Shown once");
    const [bulk] = bulkCalls();
    for (const value of Object.values(JSON.parse(bulk!.stdin) as Record<string, string>)) {
      expect(`${run.stdout}${run.stderr}`).not.toContain(value);
    }
  });

  it("refuses to run under CI, whose logs would keep the printed values", async () => {
    cf = fakeCloudflare(emptyAccount());
    const run = await cf.run("secrets", [], { env: { CI: "true" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("CI logs keep them");
    expect(cf.calls()).toEqual([]);
  });

  it("logged out: says how to log in, touches nothing", async () => {
    cf = fakeCloudflare(emptyAccount({ loggedIn: false }));
    const run = await cf.run("secrets");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("npx wrangler login");
    expect(cf.calls().map((c) => c.command)).toEqual(["whoami"]);
  });
});

describe("npm run secrets -- --rotate", () => {
  const deployed = (secrets: Record<string, string>): FakeAccount => emptyAccount({ workers: { "": { secrets, deployments: 1 } } });

  it("puts a new value first and keeps the current one (read from stdin) after it, printing only the new one", async () => {
    cf = fakeCloudflare(deployed({ EVENT_HOOK_SECRETS: "current-event-secret", ADMIN_TOKEN: "t" }));
    const run = await cf.run("secrets", ["--rotate", "EVENT_HOOK_SECRETS"], { input: "current-event-secret\n" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const [bulk] = bulkCalls();
    const stored = JSON.parse(bulk!.stdin) as Record<string, string>;
    expect(Object.keys(stored)).toEqual(["EVENT_HOOK_SECRETS"]);
    const [fresh, kept, ...rest] = stored.EVENT_HOOK_SECRETS!.split(",");
    expect(fresh).toMatch(TOKEN);
    expect(kept).toBe("current-event-secret");
    expect(rest).toEqual([]);
    expect(cf.account().workers[""]!.secrets).toEqual({ EVENT_HOOK_SECRETS: stored.EVENT_HOOK_SECRETS, ADMIN_TOKEN: "t" });
    expect(occurrences(run.stdout, fresh!)).toBe(1);
    expect(run.stdout).not.toContain("current-event-secret");
    expect(run.stdout).toContain("verify the hook again");
    expect(run.stdout).toContain("npx wrangler secret put EVENT_HOOK_SECRETS");
  });

  it("SECRETS_ENCRYPTION_KEY: the new key seals first; a current list with a bad key is refused, nothing stored", async () => {
    const current = Buffer.alloc(32, 7).toString("base64");
    cf = fakeCloudflare(deployed({ SECRETS_ENCRYPTION_KEY: current }));
    const ok = await cf.run("secrets", ["--rotate", "SECRETS_ENCRYPTION_KEY"], { input: current });
    expect(ok.code).toBe(0);
    const list = (JSON.parse(bulkCalls()[0]!.stdin) as Record<string, string>).SECRETS_ENCRYPTION_KEY!.split(",");
    expect(list).toHaveLength(2);
    expect(Buffer.from(list[0]!, "base64")).toHaveLength(32);
    expect(list[1]).toBe(current);
    expect(ok.stdout).toContain('docs/forwarding.md, "Encryption key"');

    cf.clearCalls();
    const bad = await cf.run("secrets", ["--rotate", "SECRETS_ENCRYPTION_KEY"], { input: `${current},bm90LTMyLWJ5dGVz` });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("SECRETS_ENCRYPTION_KEY: current value #2 is not base64 of 32 bytes. Nothing was stored.");
    expect(bad.stderr).not.toContain("bm90LTMyLWJ5dGVz");
    expect(bulkCalls()).toEqual([]);
  });

  it("refuses an empty current value, an unknown name and a secret not set yet", async () => {
    cf = fakeCloudflare(deployed({ ADMIN_TOKEN: "t" }));
    const empty = await cf.run("secrets", ["--rotate", "ADMIN_TOKEN"], { input: " \n" });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("no current value of ADMIN_TOKEN was given");
    const unknown = await cf.run("secrets", ["--rotate", "DB"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("--rotate: DB is not one of EVENT_HOOK_SECRETS, INLINE_HOOK_SECRETS, ADMIN_TOKEN, SECRETS_ENCRYPTION_KEY");
    const unset = await cf.run("secrets", ["--rotate", "INLINE_HOOK_SECRETS"], { input: "x" });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain("INLINE_HOOK_SECRETS is not set on okta-hooks-edge yet: run `npm run secrets`");
    expect(bulkCalls()).toEqual([]);
  });
});
