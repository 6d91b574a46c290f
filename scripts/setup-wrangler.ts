/**
 * How `npm run setup`, `npm run deploy` and `npm run secrets` talk to Cloudflare: through the wrangler CLI only
 * (its login, its account selection, its API client), never through an API token of their own.
 *
 * - `wrangler` is looked up on PATH first (npm puts node_modules/.bin there; tests put a fake there), then in
 *   this checkout's node_modules/.bin.
 * - Every call gets the same `--config` / `--env`, so all steps act on one Worker and its resources.
 * - Values that must stay secret reach wrangler on stdin (`input`), never in its arguments: the command line is
 *   printed, and visible to every process on the machine.
 * - wrangler.toml is read with wrangler's own reader, so names, environments and defaults are what wrangler
 *   itself will use.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import pc from "picocolors";

const ROOT = path.resolve(import.meta.dirname, "..");
const LOCAL_BIN = path.join(ROOT, "node_modules", ".bin");

/** A failure to explain to the operator: the CLIs print its message (no stack) and exit 1. */
export class ToolError extends Error {}

export interface Target {
  /** Path of the wrangler config; default: wrangler.toml at the repository root. */
  config?: string;
  /** A wrangler environment ([env.<name>] section). */
  env?: string;
}

export interface WranglerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to wrangler's stdin (then closed). Without it, stdin is the terminal's. */
  input?: string;
  /** Also show wrangler's output as it comes (it is captured either way). */
  echo?: boolean;
  /** Print the command line before running it (default true). */
  announce?: boolean;
}

export function targetArgs(target: Target): string[] {
  return [
    ...(target.config ? ["--config", target.config] : []),
    ...(target.env ? ["--env", target.env] : []),
  ];
}

export function describeCommand(args: readonly string[]): string {
  return `wrangler ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ")}`;
}

/** Runs `wrangler <args> <target flags>` and resolves with what it printed; never rejects on a non-zero exit. */
export function runWrangler(args: readonly string[], target: Target, options: RunOptions = {}): Promise<WranglerResult> {
  const fullArgs = [...args, ...targetArgs(target)];
  if (options.announce !== false) console.log(pc.dim(`▸ ${describeCommand(fullArgs)}`));
  const env = { ...process.env, PATH: `${process.env.PATH ?? ""}${path.delimiter}${LOCAL_BIN}` };
  return new Promise((resolve, reject) => {
    const child = spawn("wrangler", fullArgs, {
      cwd: ROOT,
      env,
      stdio: [options.input === undefined ? "inherit" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new ToolError("wrangler was not found: run `npm install` first, then use `npm run …`.")
          : error,
      ),
    );
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    if (options.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // wrangler exited before reading: its exit code tells the story
      child.stdin.end(options.input);
    }
  });
}

/** Runs wrangler and throws a ToolError carrying its output when it fails. */
export async function runWranglerOrThrow(
  args: readonly string[],
  target: Target,
  what: string,
  options: RunOptions = {},
): Promise<WranglerResult> {
  const result = await runWrangler(args, target, options);
  if (result.code !== 0) {
    const output = options.echo ? "" : `\n${indent(lastLines(`${result.stdout}\n${result.stderr}`, 30))}`;
    throw new ToolError(`${what} failed: \`${describeCommand([...args, ...targetArgs(target)])}\` exited ${result.code}.${output}`);
  }
  return result;
}

/** The first JSON value in wrangler's stdout (a banner or warning may precede it). */
export function parseJsonOutput<T>(stdout: string, what: string): T {
  const start = stdout.search(/[[{]/);
  if (start === -1) throw new ToolError(`${what}: wrangler printed no JSON:\n${indent(lastLines(stdout, 10))}`);
  try {
    return JSON.parse(stdout.slice(start)) as T;
  } catch {
    throw new ToolError(`${what}: wrangler's output is not the JSON expected:\n${indent(lastLines(stdout, 10))}`);
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

/**
 * Fails unless wrangler is logged in (`wrangler whoami --json` exits non-zero when it is not), before anything
 * else runs, so a first attempt changes nothing and says what to do.
 */
export async function ensureLoggedIn(target: Target): Promise<void> {
  const result = await runWrangler(["whoami", "--json"], target);
  let loggedIn = false;
  try {
    loggedIn = parseJsonOutput<{ loggedIn?: boolean }>(result.stdout, "wrangler whoami").loggedIn === true;
  } catch {
    loggedIn = false;
  }
  if (result.code !== 0 || !loggedIn) {
    throw new ToolError(
      "Not logged in to Cloudflare. Run `npx wrangler login` (or, in CI, set CLOUDFLARE_API_TOKEN and " +
        "CLOUDFLARE_ACCOUNT_ID), then run this command again. Nothing was changed.",
    );
  }
}

export interface WorkerSecrets {
  /** False before the first deploy (or `wrangler secret bulk`) creates the Worker. */
  workerExists: boolean;
  /** Names only: Cloudflare never returns a secret's value. */
  names: string[];
}

/** The names of the secrets set on the Worker (`wrangler secret list --format json`). */
export async function listSecretNames(target: Target): Promise<WorkerSecrets> {
  const result = await runWrangler(["secret", "list", "--format", "json"], target);
  if (result.code !== 0) {
    // wrangler's answer before the Worker exists: `Worker "<name>" not found.`
    if (/Worker "[^"]*"[^\n]* not found/.test(`${result.stdout}\n${result.stderr}`)) return { workerExists: false, names: [] };
    const output = indent(lastLines(`${result.stdout}\n${result.stderr}`, 20));
    throw new ToolError(`Listing the Worker's secrets failed (wrangler exited ${result.code}):\n${output}`);
  }
  const listed = parseJsonOutput<Array<{ name?: unknown }>>(result.stdout, "wrangler secret list");
  if (!Array.isArray(listed)) throw new ToolError("wrangler secret list did not print a list.");
  return { workerExists: true, names: listed.map((s) => s.name).filter((n): n is string => typeof n === "string") };
}

/** What the tools need to know of the Worker wrangler.toml describes, for one environment. */
export interface WorkerConfig {
  configPath: string;
  workerName: string;
  database: { binding: string; name: string; id?: string; migrationsDir: string };
  /** Every queue the Worker produces to, consumes from or dead-letters into, each once. */
  queues: string[];
  /** [secrets] required of this environment. */
  requiredSecrets: string[];
  vars: Record<string, string>;
}

/**
 * The part of wrangler's resolved config the tools read. wrangler's published types leave its Config as `any`
 * (the package that defines it is bundled, not installed), so the shape is spelled out here.
 */
interface ResolvedWranglerConfig {
  name?: string;
  d1_databases?: Array<{ binding: string; database_name?: string; database_id?: string; migrations_dir?: string }>;
  queues?: {
    producers?: Array<{ queue?: string }>;
    consumers?: Array<{ queue: string; dead_letter_queue?: string }>;
  };
  secrets?: { required?: string[] };
  vars?: Record<string, unknown>;
}

export function readWorkerConfig(target: Target): WorkerConfig {
  const configPath = path.resolve(ROOT, target.config ?? "wrangler.toml");
  let config: ResolvedWranglerConfig;
  try {
    config = unstable_readConfig({ config: configPath, env: target.env }) as ResolvedWranglerConfig;
  } catch (error) {
    throw new ToolError(`Cannot read ${configPath}: ${(error as Error).message}`);
  }
  // wrangler only warns about an --env it has no section for (when the file has none) and goes on with the
  // top-level names under a suffixed Worker name: refuse instead.
  if (target.env && experimental_readRawConfig({ config: configPath }).rawConfig.env?.[target.env] === undefined) {
    throw new ToolError(`${configPath} has no [env.${target.env}] section.`);
  }
  const where = `${path.relative(ROOT, configPath) || configPath}${target.env ? ` [env.${target.env}]` : ""}`;
  if (!config.name) throw new ToolError(`${where}: the Worker needs a name.`);
  const databases = config.d1_databases ?? [];
  const database = databases.find((d) => d.binding === "DB");
  if (!database?.database_name) {
    throw new ToolError(
      `${where}: the DB binding needs a database_name (the tools create and find the database by name).`,
    );
  }
  const queues = new Set<string>();
  for (const producer of config.queues?.producers ?? []) if (producer.queue) queues.add(producer.queue);
  for (const consumer of config.queues?.consumers ?? []) {
    queues.add(consumer.queue);
    if (consumer.dead_letter_queue) queues.add(consumer.dead_letter_queue);
  }
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.vars ?? {})) if (typeof value === "string") vars[name] = value;
  return {
    configPath,
    workerName: config.name,
    database: {
      binding: database.binding,
      name: database.database_name,
      id: database.database_id || undefined,
      migrationsDir: path.resolve(path.dirname(configPath), database.migrations_dir ?? "migrations"),
    },
    queues: [...queues],
    requiredSecrets: [...(config.secrets?.required ?? [])],
    vars,
  };
}

/** Prints a ToolError's message and exits 1; anything else is a bug and keeps its stack. */
export function exitOnToolError(error: unknown): never {
  if (error instanceof ToolError) {
    console.error(pc.red(`✘ ${error.message}`));
  } else {
    console.error(error);
  }
  process.exit(1);
}
