/**
 * `npm run setup` and `npm run deploy` against a fake wrangler (test/tooling/fake-wrangler.ts): the exact wrangler
 * commands, their order on a first deploy (resources and schema before code), idempotence (a second run creates
 * nothing), and that a failure stops everything after it with a message saying what to do.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_WORKERS_DEV, type FakeAccount } from "./fake-wrangler.ts";
import { emptyAccount, fakeCloudflare, ROOT, type FakeCloudflare } from "./harness.ts";

const ALL_SECRETS = ["EVENT_HOOK_SECRETS", "INLINE_HOOK_SECRETS", "ADMIN_TOKEN", "SECRETS_ENCRYPTION_KEY"];

/** An account where `npm run secrets` already ran: the Worker exists (empty) with its four secrets. */
function accountWithSecrets(overrides: Partial<FakeAccount> = {}): FakeAccount {
  const secrets = Object.fromEntries(ALL_SECRETS.map((name) => [name, `value-of-${name}`]));
  return emptyAccount({ workers: { "": { secrets, deployments: 0 } }, ...overrides });
}

let cf: FakeCloudflare | undefined;
afterEach(() => cf?.cleanup());

const commands = () => cf!.calls().map((call) => call.command);

describe("npm run deploy", () => {
  it("on a new account: checks login and secrets, creates the database and both queues, migrates, then deploys", async () => {
    cf = fakeCloudflare(accountWithSecrets());
    const run = await cf.run("deploy");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(commands()).toEqual([
      "whoami",
      "secret list",
      "d1 list",
      "d1 create okta-hooks-edge",
      "queues info okta-hooks-edge-forward",
      "queues create okta-hooks-edge-forward",
      "queues info okta-hooks-edge-forward-dlq",
      "queues create okta-hooks-edge-forward-dlq",
      "d1 migrations apply DB",
      "deploy",
    ]);
    const calls = cf.calls();
    expect(calls.find((c) => c.command.startsWith("d1 migrations"))!.argv).toEqual(["d1", "migrations", "apply", "DB", "--remote"]);
    expect(calls.find((c) => c.command === "deploy")!.argv).toEqual(["deploy"]);
    // No --config / --env unless asked for: wrangler's own defaults apply.
    expect(calls.every((c) => c.config === undefined && c.env === undefined)).toBe(true);
    const account = cf.account();
    expect(account.databases.map((db) => db.name)).toEqual(["okta-hooks-edge"]);
    expect(account.queues.sort()).toEqual(["okta-hooks-edge-forward", "okta-hooks-edge-forward-dlq"]);
    expect(account.migrated["okta-hooks-edge"]).toBe(true);
    expect(account.workers[""]!.deployments).toBe(1);
    expect(run.stdout).toContain(`Event hook URL (Okta):    https://okta-hooks-edge.${FAKE_WORKERS_DEV}/hooks/events`);
    expect(run.stdout).toContain(`curl https://okta-hooks-edge.${FAKE_WORKERS_DEV}/healthz`);
  });

  it("run again: creates nothing, applies only what is pending (wrangler's apply), deploys again", async () => {
    cf = fakeCloudflare(accountWithSecrets());
    expect((await cf.run("deploy")).code).toBe(0);
    const before = cf.account();
    cf.clearCalls();
    const again = await cf.run("deploy");
    expect(again.code).toBe(0);
    expect(commands()).toEqual([
      "whoami",
      "secret list",
      "d1 list",
      "queues info okta-hooks-edge-forward",
      "queues info okta-hooks-edge-forward-dlq",
      "d1 migrations apply DB",
      "deploy",
    ]);
    expect(again.stdout).toContain("D1 database okta-hooks-edge exists");
    expect(again.stdout).toContain("No migrations to apply");
    const after = cf.account();
    expect(after.databases).toEqual(before.databases);
    expect(after.queues).toEqual(before.queues);
    expect(after.workers[""]!.deployments).toBe(2);
  });

  it("logged out: says how to log in and runs nothing after the check", async () => {
    cf = fakeCloudflare(accountWithSecrets({ loggedIn: false }));
    const run = await cf.run("deploy");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Not logged in to Cloudflare. Run `npx wrangler login`");
    expect(run.stderr).toContain("Nothing was changed.");
    expect(commands()).toEqual(["whoami"]);
  });

  it("before any secret is set (no Worker yet): names every missing secret and points at npm run secrets", async () => {
    cf = fakeCloudflare(emptyAccount());
    const run = await cf.run("deploy");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Secrets not set on okta-hooks-edge: ${ALL_SECRETS.join(", ")}`);
    expect(run.stderr).toContain("Run `npm run secrets`");
    expect(commands()).toEqual(["whoami", "secret list"]);
    expect(cf.account().databases).toEqual([]);
  });

  it("with one secret missing: names that one only", async () => {
    const account = accountWithSecrets();
    delete account.workers[""]!.secrets.SECRETS_ENCRYPTION_KEY;
    cf = fakeCloudflare(account);
    const run = await cf.run("deploy");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Secrets not set on okta-hooks-edge: SECRETS_ENCRYPTION_KEY.");
    expect(commands()).not.toContain("deploy");
  });

  it("a failing step stops the run: nothing after it, and wrangler's own error is shown", async () => {
    cf = fakeCloudflare(
      accountWithSecrets({
        failures: { "queues create": { code: 1, stderr: "✘ [ERROR] You have reached the maximum number of queues [code: 11010]\n" } },
      }),
    );
    const run = await cf.run("deploy");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Creating queue okta-hooks-edge-forward failed");
    expect(run.stderr).toContain("maximum number of queues");
    expect(commands()).toEqual([
      "whoami",
      "secret list",
      "d1 list",
      "d1 create okta-hooks-edge",
      "queues info okta-hooks-edge-forward",
      "queues create okta-hooks-edge-forward",
    ]);
  });

  it("a queue lookup that fails for another reason than 'does not exist' creates nothing", async () => {
    cf = fakeCloudflare(
      accountWithSecrets({
        databases: [{ uuid: "11111111-0000-4000-8000-000000000000", name: "okta-hooks-edge", created_at: "", version: "production", num_tables: 9, file_size: 1 }],
        failures: { "queues info": { code: 1, stderr: "✘ [ERROR] A request to the Cloudflare API failed. Authentication error [code: 10000]\n" } },
      }),
    );
    const run = await cf.run("deploy");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Looking up queue okta-hooks-edge-forward failed");
    expect(run.stderr).toContain("Authentication error [code: 10000]");
    expect(commands().filter((c) => c.includes("create"))).toEqual([]);
    expect(commands()).not.toContain("deploy");
  });

  it("a failing migration stops before the deploy: the old code keeps serving the old schema", async () => {
    cf = fakeCloudflare(
      accountWithSecrets({ failures: { "d1 migrations apply": { code: 1, stderr: "✘ [ERROR] Migration 0004_batches.sql failed\n" } } }),
    );
    const run = await cf.run("deploy");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Applying the D1 migrations failed");
    expect(commands().at(-1)).toBe("d1 migrations apply DB");
    expect(cf.account().workers[""]!.deployments).toBe(0);
  });

  it("--dry-run looks without touching: reports what it would create and bundles instead of uploading", async () => {
    cf = fakeCloudflare(accountWithSecrets());
    const run = await cf.run("deploy", ["--dry-run"]);
    expect(run.code).toBe(0);
    expect(commands()).toEqual([
      "whoami",
      "secret list",
      "d1 list",
      "queues info okta-hooks-edge-forward",
      "queues info okta-hooks-edge-forward-dlq",
      "deploy",
    ]);
    const deploy = cf.calls().at(-1)!;
    expect(deploy.argv.slice(0, 3)).toEqual(["deploy", "--dry-run", "--outdir"]);
    expect(run.stdout).toContain("D1 database okta-hooks-edge would be created: wrangler d1 create okta-hooks-edge");
    expect(run.stdout).toContain("queue okta-hooks-edge-forward-dlq would be created");
    const migrations = readdirSync(path.join(ROOT, "migrations")).filter((f) => f.endsWith(".sql")).length;
    expect(run.stdout).toContain(`all ${migrations} migrations would be applied`);
    expect(run.stdout).toContain("nothing was created, migrated or uploaded");
    expect(cf.account()).toEqual(accountWithSecrets());
  });

  it("--dry-run on a deployed account lists the pending migrations remotely", async () => {
    cf = fakeCloudflare(accountWithSecrets());
    expect((await cf.run("deploy")).code).toBe(0);
    cf.clearCalls();
    const run = await cf.run("deploy", ["--dry-run"]);
    expect(run.code).toBe(0);
    expect(cf.calls().find((c) => c.command.startsWith("d1 migrations"))!.argv).toEqual(["d1", "migrations", "list", "DB", "--remote"]);
  });

  it("--env and --config reach every wrangler call, and the names come from that environment", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-env-config-"));
    try {
      const config = path.join(dir, "wrangler.toml");
      writeFileSync(
        config,
        `name = "okta-hooks-edge"
main = "${path.join(ROOT, "src", "index.ts")}"
compatibility_date = "2026-11-01"

[env.staging]
[[env.staging.d1_databases]]
binding = "DB"
database_name = "okta-hooks-edge-staging"
migrations_dir = "${path.join(ROOT, "migrations")}"
[[env.staging.queues.producers]]
binding = "FORWARD_QUEUE"
queue = "staging-forward"
[[env.staging.queues.consumers]]
queue = "staging-forward"
dead_letter_queue = "staging-dlq"
[env.staging.secrets]
required = ["ADMIN_TOKEN"]
`,
      );
      cf = fakeCloudflare(emptyAccount({ workers: { staging: { secrets: { ADMIN_TOKEN: "x" }, deployments: 0 } } }));
      const run = await cf.run("deploy", ["--env", "staging", "--config", config]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(commands()).toEqual([
        "whoami",
        "secret list",
        "d1 list",
        "d1 create okta-hooks-edge-staging",
        "queues info staging-forward",
        "queues create staging-forward",
        "queues info staging-dlq",
        "queues create staging-dlq",
        "d1 migrations apply DB",
        "deploy",
      ]);
      expect(cf.calls().every((c) => c.env === "staging" && c.config === config)).toBe(true);
      expect(run.stdout).toContain(`https://okta-hooks-edge-staging.${FAKE_WORKERS_DEV}/hooks/events`);
      expect(run.stdout).toContain("npx wrangler tail --env staging");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an unknown --env is refused before wrangler runs", async () => {
    cf = fakeCloudflare(accountWithSecrets());
    const run = await cf.run("deploy", ["--env", "nope"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("has no [env.nope] section");
    expect(commands()).toEqual([]);
  });
});

describe("npm run setup", () => {
  it("creates what is missing, and a second run creates nothing", async () => {
    cf = fakeCloudflare(emptyAccount({ queues: ["okta-hooks-edge-forward-dlq"] }));
    const first = await cf.run("setup");
    expect(first.code).toBe(0);
    expect(commands().filter((c) => c.includes(" create "))).toEqual(["d1 create okta-hooks-edge", "queues create okta-hooks-edge-forward"]);
    expect(first.stdout).toContain("Created: D1 database okta-hooks-edge, queue okta-hooks-edge-forward.");
    cf.clearCalls();
    const second = await cf.run("setup");
    expect(second.code).toBe(0);
    expect(commands()).toEqual([
      "whoami",
      "d1 list",
      "queues info okta-hooks-edge-forward",
      "queues info okta-hooks-edge-forward-dlq",
    ]);
    expect(second.stdout).toContain("Everything already existed; nothing was created.");
  });

  it("passes --location to d1 create, and --dry-run creates nothing", async () => {
    cf = fakeCloudflare(emptyAccount());
    const dry = await cf.run("setup", ["--dry-run", "--location", "weur"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("A real run would create: D1 database okta-hooks-edge, queue okta-hooks-edge-forward, queue okta-hooks-edge-forward-dlq.");
    expect(commands().filter((c) => c.includes("create"))).toEqual([]);
    const real = await cf.run("setup", ["--location", "weur"]);
    expect(real.code).toBe(0);
    expect(cf.calls().find((c) => c.command.startsWith("d1 create"))!.argv).toEqual(["d1", "create", "okta-hooks-edge", "--location", "weur"]);
  });

  it("a database_id this account does not have is an error, not a second database", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-db-id-"));
    try {
      const config = path.join(dir, "wrangler.toml");
      writeFileSync(
        config,
        `name = "okta-hooks-edge"\nmain = "${path.join(ROOT, "src", "index.ts")}"\ncompatibility_date = "2026-11-01"\n` +
          `[[d1_databases]]\nbinding = "DB"\ndatabase_name = "okta-hooks-edge"\ndatabase_id = "99999999-0000-4000-8000-000000000000"\n`,
      );
      cf = fakeCloudflare(emptyAccount());
      const run = await cf.run("setup", ["--config", config]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("database_id 99999999-0000-4000-8000-000000000000, which this account does not have");
      expect(cf.account().databases).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("logged out: one clear error, nothing looked up or created", async () => {
    cf = fakeCloudflare(emptyAccount({ loggedIn: false }));
    const run = await cf.run("setup");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("npx wrangler login");
    expect(commands()).toEqual(["whoami"]);
  });
});
