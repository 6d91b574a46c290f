#!/usr/bin/env node
/**
 * `npm run deploy`: from a Cloudflare login to a running gateway, in an order that is right for the first deploy
 * and for every one after it, and safe to run again:
 *
 * 1. checks the login and that every secret wrangler.toml declares is set (else it stops before changing
 *    anything and says to run `npm run secrets`; wrangler would refuse the deploy anyway);
 * 2. creates the D1 database and the queues when missing (`npm run setup`, idempotent);
 * 3. applies the D1 migrations remotely (`wrangler d1 migrations apply DB --remote`: only pending ones, so a
 *    re-run applies nothing). Schema before code: the new version finds what it needs; migrations are additive
 *    but for 0010 (docs/okta-setup.md "Upgrading across migration 0010"), so the running version keeps working on
 *    the new schema;
 * 4. `wrangler deploy`, then prints the URLs to give Okta.
 *
 * `--dry-run` looks without touching: it lists what it would create and which migrations are pending, and
 * bundles the Worker with `wrangler deploy --dry-run` instead of uploading it.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { ensureResources } from "./setup-resources.ts";
import {
  ensureLoggedIn,
  exitOnToolError,
  listSecretNames,
  readWorkerConfig,
  runWranglerOrThrow,
  ToolError,
  type Target,
  type WorkerConfig,
} from "./setup-wrangler.ts";

const program = new Command()
  .name("npm run deploy --")
  .description("Create what is missing, apply the D1 migrations remotely and deploy the Worker (idempotent).")
  .option("-e, --env <name>", "wrangler environment ([env.<name>] in wrangler.toml)")
  .option("-c, --config <path>", "wrangler config file (default: wrangler.toml)")
  .option("--location <hint>", "primary location hint for a new D1 database (weur, eeur, apac, oc, wnam, enam)")
  .option("--dry-run", "only look: what would be created, which migrations are pending, bundle without uploading")
  .showHelpAfterError();

program.parse();
const options = program.opts<{ env?: string; config?: string; location?: string; dryRun?: boolean }>();

function step(text: string): void {
  console.log(`\n${pc.cyan("■")} ${pc.bold(text)}`);
}

async function checkSecrets(worker: WorkerConfig, target: Target): Promise<void> {
  const { names } = await listSecretNames(target);
  const missing = worker.requiredSecrets.filter((name) => !names.includes(name));
  if (missing.length === 0) {
    console.log(`${pc.green("✓")} secrets set: ${worker.requiredSecrets.join(", ") || "(none declared)"}`);
    return;
  }
  const command = `npm run secrets${target.env ? ` -- --env ${target.env}` : ""}`;
  const message =
    `Secrets not set on ${worker.workerName}: ${missing.join(", ")}. Run \`${command}\` (it generates and ` +
    "stores them and prints what to paste into Okta), then deploy again.";
  if (options.dryRun) {
    console.log(`${pc.yellow("!")} ${message}`);
    return;
  }
  throw new ToolError(`${message} Nothing was changed.`);
}

function migrationFiles(worker: WorkerConfig): string[] {
  try {
    return readdirSync(worker.database.migrationsDir).filter((file) => file.endsWith(".sql"));
  } catch {
    throw new ToolError(`No migrations directory at ${worker.database.migrationsDir}.`);
  }
}

/** The first workers.dev URL wrangler printed (routes and custom domains are the operator's own). */
function deployedUrl(output: string): string | undefined {
  return /https:\/\/[a-z0-9.-]+\.workers\.dev\b/i.exec(output)?.[0];
}

try {
  const target: Target = { config: options.config, env: options.env };
  const worker = readWorkerConfig(target);
  const db = worker.database.binding;
  const migrations = migrationFiles(worker);

  step(`Cloudflare login and secrets of ${worker.workerName}`);
  await ensureLoggedIn(target);
  await checkSecrets(worker, target);

  step("D1 database and queues");
  const resources = await ensureResources(worker, target, { dryRun: options.dryRun, location: options.location });

  step(`D1 migrations (${migrations.length} in ${path.relative(process.cwd(), worker.database.migrationsDir) || "."})`);
  if (!options.dryRun) {
    await runWranglerOrThrow(["d1", "migrations", "apply", db, "--remote"], target, "Applying the D1 migrations", { echo: true });
  } else if (resources.databaseExists) {
    await runWranglerOrThrow(["d1", "migrations", "list", db, "--remote"], target, "Listing pending migrations", { echo: true });
  } else {
    console.log(`The database is new: all ${migrations.length} migrations would be applied.`);
  }

  step(options.dryRun ? "Bundle (wrangler deploy --dry-run)" : "Deploy");
  if (options.dryRun) {
    const outdir = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-dry-run-"));
    try {
      await runWranglerOrThrow(["deploy", "--dry-run", "--outdir", outdir], target, "Bundling the Worker", { echo: true });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    console.log(pc.green("\nDry run complete: nothing was created, migrated or uploaded."));
  } else {
    const deployed = await runWranglerOrThrow(["deploy"], target, "Deploying the Worker", { echo: true });
    const url = deployedUrl(deployed.stdout) ?? `https://${worker.workerName}.<your-subdomain>.workers.dev`;
    console.log(`
${pc.green(`✔ ${worker.workerName} is deployed.`)}

  Event hook URL (Okta):    ${url}/hooks/events
  Inline hook URLs (Okta):  ${url}/hooks/inline/{token,registration,password-import,saml,user-import,telephony}
  Health:                   curl ${url}/healthz
  Logs:                     npx wrangler tail${target.env ? ` --env ${target.env}` : ""} --format pretty

Create and verify the hooks in Okta: docs/okta-setup.md.`);
  }
} catch (error) {
  exitOnToolError(error);
}
