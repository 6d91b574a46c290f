#!/usr/bin/env node
/**
 * `npm run setup`: creates the Cloudflare resources wrangler.toml names (D1 database, forward queue, dead-letter
 * queue) when they do not exist yet, and says which already did. Safe to run any number of times.
 * `npm run deploy` runs the same step first, so this is only needed to prepare an account ahead of a deploy.
 * Needs `wrangler login` (or CLOUDFLARE_API_TOKEN).
 */
import { Command } from "commander";
import pc from "picocolors";
import { ensureResources } from "./setup-resources.ts";
import { ensureLoggedIn, exitOnToolError, readWorkerConfig, type Target } from "./setup-wrangler.ts";

const program = new Command()
  .name("npm run setup --")
  .description("Create the D1 database and the queues of wrangler.toml when missing (idempotent).")
  .option("-e, --env <name>", "wrangler environment ([env.<name>] in wrangler.toml)")
  .option("-c, --config <path>", "wrangler config file (default: wrangler.toml)")
  .option("--location <hint>", "primary location hint for a new D1 database (weur, eeur, apac, oc, wnam, enam)")
  .option("--dry-run", "only look: print what would be created")
  .showHelpAfterError();

program.parse();
const options = program.opts<{ env?: string; config?: string; location?: string; dryRun?: boolean }>();

try {
  const target: Target = { config: options.config, env: options.env };
  const worker = readWorkerConfig(target);
  await ensureLoggedIn(target);
  const report = await ensureResources(worker, target, { dryRun: options.dryRun, location: options.location });
  if (options.dryRun) {
    console.log(
      report.wouldCreate.length === 0
        ? pc.green("Everything exists; a real run would create nothing.")
        : `A real run would create: ${report.wouldCreate.join(", ")}.`,
    );
  } else {
    console.log(
      report.created.length === 0
        ? pc.green("Everything already existed; nothing was created.")
        : pc.green(`Created: ${report.created.join(", ")}.`),
    );
    console.log("Next: `npm run secrets` (once), then `npm run deploy`.");
  }
} catch (error) {
  exitOnToolError(error);
}
