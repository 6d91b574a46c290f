#!/usr/bin/env node
/**
 * `npm run secrets`: generates the gateway's secrets and stores them on the Worker with `wrangler secret bulk`,
 * then prints, once, what to paste into Okta. Needs `wrangler login`.
 *
 * - Default: every secret wrangler.toml declares ([secrets] required) that the Worker does not have yet. Values
 *   already set are never replaced (that would lock Okta out until it is updated); a run with nothing missing
 *   changes nothing. Before the first deploy wrangler creates the (empty) Worker to hold them.
 * - `--rotate NAME`: a new value is put first and the current ones kept after it (the gateway accepts every value
 *   of the list), so Okta keeps working while you update it. Cloudflare never returns a secret, so the current
 *   value is read from stdin (piped, e.g. from a password manager) or a hidden prompt.
 *
 * Values travel to wrangler as JSON on its stdin: never in a command line, an environment variable or a file.
 * It refuses to run under CI (the `CI` variable), whose logs would keep the printed values.
 */
import { Command } from "commander";
import pc from "picocolors";
import {
  GATEWAY_SECRETS,
  generateSecret,
  isGatewaySecret,
  pasteInstructions,
  rotationList,
  type GatewaySecretName,
} from "./secrets-values.ts";
import { readSecretInput } from "./secrets-input.ts";
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
  .name("npm run secrets --")
  .description("Generate the gateway's secrets, store them on the Worker and print what to paste into Okta.")
  .option("-e, --env <name>", "wrangler environment ([env.<name>] in wrangler.toml)")
  .option("-c, --config <path>", "wrangler config file (default: wrangler.toml)")
  .option("--rotate <name>", `rotate one secret without downtime (${Object.keys(GATEWAY_SECRETS).join(", ")})`)
  .option("--dry-run", "say what would be generated and stored; store and print no value")
  .showHelpAfterError();

program.parse();
const options = program.opts<{ env?: string; config?: string; rotate?: string; dryRun?: boolean }>();

async function storeSecrets(values: Record<string, string>, target: Target): Promise<void> {
  // JSON on stdin (wrangler reads stdin when no file is given).
  await runWranglerOrThrow(["secret", "bulk"], target, "Storing the secrets", { input: JSON.stringify(values) });
}

function printOnce(values: Partial<Record<GatewaySecretName, string>>, worker: WorkerConfig): void {
  console.log("");
  console.log(pc.bold("Shown once — Cloudflare will not show these values again. Keep them in your password manager."));
  console.log("");
  for (const line of pasteInstructions(values, worker.vars)) console.log(line.startsWith("  ") ? line : pc.bold(line));
  console.log("");
}

async function generateMissing(worker: WorkerConfig, target: Target): Promise<void> {
  const secrets = await listSecretNames(target);
  const missing = worker.requiredSecrets.filter((name) => !secrets.names.includes(name));
  const foreign = missing.filter((name) => !isGatewaySecret(name));
  const toGenerate = missing.filter(isGatewaySecret);
  const present = worker.requiredSecrets.filter((name) => secrets.names.includes(name));
  if (present.length > 0) console.log(`${pc.green("✓")} already set (left as they are): ${present.join(", ")}`);
  for (const name of foreign) {
    console.log(
      `${pc.yellow("!")} ${name} is declared but not one this tool generates: set it with \`npx wrangler secret put ${name}\``,
    );
  }
  if (toGenerate.length === 0) {
    console.log(pc.green("Nothing to generate: every secret this tool manages is set. To change one: --rotate NAME."));
    return;
  }
  if (options.dryRun) {
    console.log(`Would generate and store on ${worker.workerName}: ${toGenerate.join(", ")} (nothing stored).`);
    return;
  }
  if (!secrets.workerExists) {
    console.log(`Worker ${worker.workerName} does not exist yet: wrangler creates it (empty) to hold the secrets.`);
  }
  const values: Partial<Record<GatewaySecretName, string>> = {};
  for (const name of toGenerate) values[name] = generateSecret(GATEWAY_SECRETS[name].format);
  await storeSecrets(values as Record<string, string>, target);
  console.log(`${pc.green("✓")} stored on ${worker.workerName}: ${toGenerate.join(", ")}`);
  printOnce(values, worker);
  const deploy = `npm run deploy${target.env ? ` -- --env ${target.env}` : ""}`;
  console.log(`Next: \`${deploy}\`, then create the hooks in Okta (docs/okta-setup.md).`);
}

const ROTATION_NEXT_STEPS: Record<GatewaySecretName, string[]> = {
  EVENT_HOOK_SECRETS: [
    "1. In Okta, set each event hook's authentication secret to the new value and verify the hook again.",
    "2. When every hook uses it, keep only the new value: `npx wrangler secret put EVENT_HOOK_SECRETS` and paste it.",
  ],
  INLINE_HOOK_SECRETS: [
    "1. In Okta, set each inline hook's authentication secret to the new value.",
    "2. When every hook uses it, keep only the new value: `npx wrangler secret put INLINE_HOOK_SECRETS` and paste it.",
  ],
  ADMIN_TOKEN: [
    "1. Switch your scripts and tools to the new token.",
    "2. Then keep only the new value: `npx wrangler secret put ADMIN_TOKEN` and paste it.",
  ],
  SECRETS_ENCRYPTION_KEY: [
    "1. New destination secrets are sealed with the new key; re-seal the existing ones (docs/forwarding.md, \"Encryption key\").",
    "2. Only when no row uses the old key, keep only the new one: `npx wrangler secret put SECRETS_ENCRYPTION_KEY`.",
  ],
};

async function rotate(name: string, worker: WorkerConfig, target: Target): Promise<void> {
  if (!isGatewaySecret(name)) {
    throw new ToolError(`--rotate: ${name} is not one of ${Object.keys(GATEWAY_SECRETS).join(", ")}.`);
  }
  if (!worker.requiredSecrets.includes(name)) {
    throw new ToolError(`--rotate: ${name} is not in [secrets] required of ${worker.configPath}.`);
  }
  const secrets = await listSecretNames(target);
  if (!secrets.names.includes(name)) {
    throw new ToolError(`${name} is not set on ${worker.workerName} yet: run \`npm run secrets\` to generate it.`);
  }
  if (options.dryRun) {
    console.log(
      `Would read the current ${name}, store "new,current" on ${worker.workerName} and print the new value ` +
        "(nothing stored).",
    );
    return;
  }
  const current = await readSecretInput(`Current value(s) of ${name}, comma-separated (input hidden): `);
  const fresh = generateSecret(GATEWAY_SECRETS[name].format);
  let list: string;
  try {
    list = rotationList(name, current, fresh);
  } catch (error) {
    throw new ToolError(`${(error as Error).message}. Nothing was stored.`);
  }
  await storeSecrets({ [name]: list }, target);
  console.log(`${pc.green("✓")} ${name} on ${worker.workerName}: the new value first, the current one(s) after it.`);
  printOnce({ [name]: fresh }, worker);
  for (const line of ROTATION_NEXT_STEPS[name]) console.log(line);
}

try {
  // CI logs keep what a job prints, and this tool prints secret values: it is for an operator's terminal.
  if (process.env.CI && process.env.CI !== "false" && !options.dryRun) {
    throw new ToolError(
      "npm run secrets prints secret values, and CI logs keep them: run it from your own terminal. " +
        "(In CI, store values you already hold with `wrangler secret bulk` reading JSON from stdin.)",
    );
  }
  const target: Target = { config: options.config, env: options.env };
  const worker = readWorkerConfig(target);
  await ensureLoggedIn(target);
  if (options.rotate) await rotate(options.rotate, worker, target);
  else await generateMissing(worker, target);
} catch (error) {
  exitOnToolError(error);
}
