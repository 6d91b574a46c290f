/**
 * A stand-in for the `wrangler` CLI, put first on PATH by the tooling tests, so `npm run setup`, `deploy` and
 * `secrets` run end to end without a Cloudflare account. It keeps a small account in a JSON file
 * (FAKE_WRANGLER_STATE), appends every call (argv and stdin) to FAKE_WRANGLER_LOG, and answers like wrangler
 * 4.164 does — same exit codes, same JSON shapes, same error sentences the scripts key on — as read in wrangler's
 * source (`d1 list --json` prints the API's database objects, `whoami --json` prints `{"loggedIn":false}` and
 * exits 1 when logged out, `queues info` fails with `Queue "<name>" does not exist.`, `secret list` fails with
 * `Worker "<name>" not found.` before the Worker exists, `secret bulk` creates the Worker when missing).
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

export interface FakeAccount {
  loggedIn: boolean;
  databases: Array<{ uuid: string; name: string; created_at: string; version: string; num_tables: number; file_size: number }>;
  queues: string[];
  /** Workers by wrangler environment ("" = top level): their secrets, and whether code was ever uploaded. */
  workers: Record<string, { secrets: Record<string, string>; deployments: number }>;
  /** Migrations applied remotely, per database name. */
  migrated: Record<string, boolean>;
  /** Commands ("d1 create", "queues info", …) made to fail with this exit code and stderr. */
  failures: Record<string, { code: number; stderr: string }>;
}

export interface FakeCall {
  argv: string[];
  /** The command words, global flags removed: e.g. "d1 create okta-hooks-edge". */
  command: string;
  env?: string;
  config?: string;
  stdin: string;
}

export const FAKE_WORKERS_DEV = "fake-subdomain.workers.dev";

const BANNER = "\n ⛅️ wrangler 4.164.0 (fake)\n───────────────────\n";
const NOT_LOGGED_IN =
  "✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.\n";

function parse(argv: string[]): { words: string[]; flags: Map<string, string | true>; env?: string; config?: string } {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
      const takesValue = ["env", "config", "format", "outdir", "location", "name"].includes(name);
      flags.set(name, inline ?? (takesValue ? argv[++i] ?? "" : true));
    } else {
      words.push(arg);
    }
  }
  const env = flags.get("env");
  const config = flags.get("config");
  return { words, flags, env: typeof env === "string" ? env : undefined, config: typeof config === "string" ? config : undefined };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

function main(account: FakeAccount, words: string[], flags: Map<string, string | true>, envName: string, stdin: string): number {
  const command = words.join(" ");
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  const failure = Object.entries(account.failures).find(([prefix]) => command === prefix || command.startsWith(`${prefix} `));
  const workerName = `okta-hooks-edge${envName ? `-${envName}` : ""}`;

  if (command === "whoami") {
    if (!account.loggedIn) {
      out(`${JSON.stringify({ loggedIn: false })}\n`);
      return 1;
    }
    out(`${JSON.stringify({ loggedIn: true, authType: "OAuth Token", email: "ops@example.com", accounts: [{ id: "0123456789abcdef", name: "Example" }] }, null, 2)}\n`);
    return 0;
  }
  const dryRunDeploy = words[0] === "deploy" && flags.has("dry-run");
  if (!dryRunDeploy && !account.loggedIn) {
    err(NOT_LOGGED_IN);
    return 1;
  }
  if (failure) {
    err(failure[1].stderr);
    return failure[1].code;
  }
  const json = flags.has("json") || flags.get("format") === "json";
  if (!json) out(BANNER);

  switch (words.slice(0, 2).join(" ")) {
    case "d1 list":
      out(`${JSON.stringify(account.databases, null, 2)}\n`);
      return 0;
    case "d1 create": {
      const name = words[2]!;
      if (account.databases.some((db) => db.name === name)) {
        err("✘ [ERROR] A database with that name already exists\n");
        return 1;
      }
      const uuid = `${account.databases.length.toString().padStart(8, "0")}-0000-4000-8000-000000000000`;
      account.databases.push({ uuid, name, created_at: new Date(0).toISOString(), version: "production", num_tables: 0, file_size: 0 });
      out(`✅ Successfully created DB '${name}'\nCreated your new D1 database.\n\n[[d1_databases]]\nbinding = "${name}"\ndatabase_name = "${name}"\ndatabase_id = "${uuid}"\n`);
      return 0;
    }
    case "d1 migrations": {
      if (account.databases.length === 0) {
        err(`✘ [ERROR] Couldn't find a D1 DB with the name or binding '${words[3]}' in your wrangler.toml file.\n`);
        return 1;
      }
      const name = account.databases[0]!.name;
      if (words[2] === "list") {
        out(account.migrated[name] ? "✅ No migrations to apply!\n" : "Migrations to be applied:\n0001_init.sql\n");
        return 0;
      }
      out(account.migrated[name] ? "✅ No migrations to apply!\n" : "🚣 Executed migrations\n");
      account.migrated[name] = true;
      return 0;
    }
    case "queues info": {
      const name = words[2]!;
      if (!account.queues.includes(name)) {
        err(`✘ [ERROR] Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}\n`);
        return 1;
      }
      out(`Queue Name: ${name}\nQueue ID: fake-${name}\nNumber of Producers: 0\nNumber of Consumers: 0\n`);
      return 0;
    }
    case "queues create": {
      const name = words[2]!;
      if (account.queues.includes(name)) {
        err(`✘ [ERROR] A queue with this name already exists [code: 11009]\n`);
        return 1;
      }
      account.queues.push(name);
      out(`🌀 Creating queue '${name}'\n✅ Created queue '${name}'\n`);
      return 0;
    }
    case "secret list": {
      const worker = account.workers[envName];
      if (!worker) {
        err(`✘ [ERROR] Worker "${workerName}"${envName ? ` (env: ${envName})` : ""} not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\n`);
        return 1;
      }
      out(`${JSON.stringify(Object.keys(worker.secrets).map((name) => ({ name, type: "secret_text" })), null, "  ")}\n`);
      return 0;
    }
    case "secret bulk": {
      let content: Record<string, string | null>;
      try {
        content = JSON.parse(stdin) as Record<string, string | null>;
      } catch {
        err("✘ [ERROR] Please provide valid JSON or .env content.\n");
        return 1;
      }
      out(`🌀 Processing the secrets for the Worker "${workerName}"\n`);
      if (!account.workers[envName]) {
        out(`🌀 Creating new Worker "${workerName}"...\n`);
        account.workers[envName] = { secrets: {}, deployments: 0 };
      }
      for (const [name, value] of Object.entries(content)) {
        if (value === null) delete account.workers[envName]!.secrets[name];
        else account.workers[envName]!.secrets[name] = value;
        out(`✨ Successfully created secret for key: ${name}\n`);
      }
      return 0;
    }
  }
  if (words[0] === "deploy") {
    if (dryRunDeploy) {
      out(`Total Upload: 200.00 KiB / gzip: 50.00 KiB\nYour Worker has access to the following bindings:\n--dry-run: exiting now.\n`);
      return 0;
    }
    const worker = account.workers[envName];
    if (!worker) {
      err(`✘ [ERROR] The following required secrets have not been set: EVENT_HOOK_SECRETS, INLINE_HOOK_SECRETS, ADMIN_TOKEN, SECRETS_ENCRYPTION_KEY\n`);
      return 1;
    }
    worker.deployments += 1;
    out(`Uploaded ${workerName} (1.00 sec)\nDeployed ${workerName} triggers (0.50 sec)\n  https://${workerName}.${FAKE_WORKERS_DEV}\n  schedule: */5 * * * *\nCurrent Version ID: 00000000-fake\n`);
    return 0;
  }
  err(`fake wrangler: unsupported command: ${command}\n`);
  return 2;
}

// Run only as the CLI (the tests import the types and constants above).
if (process.env.FAKE_WRANGLER_STATE && process.argv[1]?.endsWith("fake-wrangler.ts")) {
  const statePath = process.env.FAKE_WRANGLER_STATE;
  const logPath = process.env.FAKE_WRANGLER_LOG!;
  const argv = process.argv.slice(2);
  const { words, flags, env, config } = parse(argv);
  const stdin = words[0] === "secret" && words[1] === "bulk" ? await readStdin() : "";
  const call: FakeCall = { argv, command: words.join(" "), env, config, stdin };
  appendFileSync(logPath, `${JSON.stringify(call)}\n`);
  const account = JSON.parse(readFileSync(statePath, "utf8")) as FakeAccount;
  const code = main(account, words, flags, env ?? "", stdin);
  writeFileSync(statePath, JSON.stringify(account, null, 2));
  process.exitCode = code;
}
