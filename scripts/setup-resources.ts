/**
 * Creates what the Worker binds to and does not exist yet: the D1 database and every queue (forward queue and
 * dead-letter queue), found by the names in wrangler.toml. Idempotent: a second run looks and creates nothing.
 *
 * Why a step of our own rather than leaving it to `wrangler deploy` (which provisions bindings without an id):
 * the database must exist before the first deploy, because the migrations are applied before the new code serves
 * (docs/okta-setup.md), and deploy-time provisioning creates it only during the deploy. Nothing is written back to
 * wrangler.toml: wrangler finds both by name, so the same file works in every account.
 */
import pc from "picocolors";
import {
  parseJsonOutput,
  runWrangler,
  runWranglerOrThrow,
  ToolError,
  type Target,
  type WorkerConfig,
} from "./setup-wrangler.ts";

export interface SetupOptions {
  /** Look only: say what would be created. */
  dryRun?: boolean;
  /** `wrangler d1 create --location`: where the database's primary copy should live. */
  location?: string;
}

export interface SetupReport {
  created: string[];
  existing: string[];
  /** With dryRun: what a real run would create. */
  wouldCreate: string[];
  /** True when the D1 database exists (after a real run it always does). */
  databaseExists: boolean;
}

interface D1DatabaseListing {
  uuid: string;
  name: string;
}

export async function ensureResources(worker: WorkerConfig, target: Target, options: SetupOptions = {}): Promise<SetupReport> {
  const report: SetupReport = { created: [], existing: [], wouldCreate: [], databaseExists: false };

  const listing = await runWranglerOrThrow(["d1", "list", "--json"], target, "Listing D1 databases");
  const databases = parseJsonOutput<D1DatabaseListing[]>(listing.stdout, "wrangler d1 list");
  if (!Array.isArray(databases)) throw new ToolError("wrangler d1 list --json did not print a list.");
  const { name, id } = worker.database;
  const found = databases.find((db) => db.name === name || (id !== undefined && db.uuid === id));
  const database = `D1 database ${name}`;
  if (found) {
    report.existing.push(database);
    report.databaseExists = true;
    console.log(`${pc.green("✓")} ${database} exists (${found.uuid})`);
  } else if (id !== undefined) {
    // An explicit database_id that is not in this account: creating one by name would not match it.
    throw new ToolError(
      `wrangler.toml names D1 database ${name} with database_id ${id}, which this account does not have. ` +
        "Remove database_id to let setup create the database by name, or log in to the account that has it.",
    );
  } else if (options.dryRun) {
    report.wouldCreate.push(database);
    console.log(`${pc.yellow("○")} ${database} would be created: wrangler d1 create ${name}`);
  } else {
    const args = ["d1", "create", name, ...(options.location ? ["--location", options.location] : [])];
    await runWranglerOrThrow(args, target, `Creating ${database}`);
    report.created.push(database);
    report.databaseExists = true;
    console.log(`${pc.green("✓")} ${database} created`);
  }

  for (const queueName of worker.queues) {
    const queue = `queue ${queueName}`;
    const info = await runWrangler(["queues", "info", queueName], target);
    if (info.code === 0) {
      report.existing.push(queue);
      console.log(`${pc.green("✓")} ${queue} exists`);
      continue;
    }
    // wrangler's answer for a missing queue: `Queue "<name>" does not exist. To create it, run: …`.
    if (!/does not exist/.test(`${info.stdout}\n${info.stderr}`)) {
      throw new ToolError(
        `Looking up ${queue} failed (wrangler exited ${info.code}):\n${`${info.stdout}\n${info.stderr}`.trim()}`,
      );
    }
    if (options.dryRun) {
      report.wouldCreate.push(queue);
      console.log(`${pc.yellow("○")} ${queue} would be created: wrangler queues create ${queueName}`);
      continue;
    }
    await runWranglerOrThrow(["queues", "create", queueName], target, `Creating ${queue}`);
    report.created.push(queue);
    console.log(`${pc.green("✓")} ${queue} created`);
  }
  return report;
}
