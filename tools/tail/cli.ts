/**
 * `npm run tail -- [--env …] [--route …] [--status …] [--format pretty|json] [--file …]`: the gateway's log, one
 * line per request. Without `--file` and with a terminal on stdin it runs `wrangler tail --format json` (which needs
 * a Cloudflare account and a deployed Worker); with `--file` or piped input it renders what it is given
 * (`wrangler tail --format json | npm run tail`, or a saved session).
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { colors, type Colors } from "../colors.ts";
import { entryOf } from "./entries.ts";
import { combine, routeFilter, statusFilter, statusMatcher, type EntryFilter } from "./filters.ts";
import { RecordScanner, type ParsedRecord } from "./records.ts";
import { entryJson, renderEntry } from "./render.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface Options {
  env?: string;
  route?: string[];
  status?: string[];
  format: "pretty" | "json";
  file?: string;
  verbose?: boolean;
  color: boolean;
}

const many = (value: string, previous: string[] = []) => [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];

export function tailCommand(): Command {
  return new Command("tail")
    .description("Render the gateway's `wrangler tail --format json` output: one coloured line per request, with filters.")
    .option("--env <name>", "the wrangler environment to tail (passed to wrangler tail)")
    .option("--route <route>", "only requests to this route or prefix, or a glob with * (repeatable, comma-separated)", many)
    .option("--status <status>", "only these statuses: a code (503), a class (4xx) or error (repeatable, comma-separated)", many)
    .addOption(new Option("--format <format>", "pretty lines, or one JSON object per line").choices(["pretty", "json"]).default("pretty"))
    .option("--file <path>", "render a saved `wrangler tail --format json` session (- for stdin) instead of tailing")
    .option("--verbose", "also the info-level lines of each invocation (fan-out, delivered…)")
    .option("--no-color", "no colours (also: NO_COLOR=1)");
}

/** Renders records from `input` until it ends; returns how many records could not be read. */
export async function renderStream(
  input: AsyncIterable<string | Buffer>,
  write: (line: string) => void,
  options: { c: Colors; filter: EntryFilter; format: "pretty" | "json"; verbose?: boolean; warn: (line: string) => void },
): Promise<number> {
  const scanner = new RecordScanner();
  let unreadable = 0;
  const handle = (records: ParsedRecord[]) => {
    for (const record of records) {
      if (!record.ok) {
        unreadable++;
        options.warn(`tail: skipped a record that is not JSON (${record.error})`);
        continue;
      }
      const entry = entryOf(record.value);
      if (!entry || !options.filter(entry)) continue;
      if (options.format === "json") write(entryJson(entry));
      else for (const line of renderEntry(options.c, entry, { verbose: options.verbose })) write(line);
    }
  };
  for await (const chunk of input) handle(scanner.push(typeof chunk === "string" ? chunk : chunk.toString("utf8")));
  handle(scanner.end());
  return unreadable;
}

/** The arguments of the `wrangler tail` this runs. */
export function wranglerTailArgs(env: string | undefined): string[] {
  return ["tail", "--format", "json", ...(env ? ["--env", env] : [])];
}

function wranglerTail(env: string | undefined, err: (line: string) => void) {
  // The wrangler on PATH (npm run puts the project's first), else the project's; `node` for its shebang is the
  // Node 22 running this (wrangler refuses older ones).
  const PATH = [path.dirname(process.execPath), process.env.PATH ?? "", path.join(ROOT, "node_modules", ".bin")].join(path.delimiter);
  const child = spawn("wrangler", wranglerTailArgs(env), { cwd: ROOT, env: { ...process.env, PATH }, stdio: ["ignore", "pipe", "inherit"] });
  const stop = () => child.kill("SIGINT");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const exited = new Promise<number>((resolve) => {
    child.on("error", (e) => {
      err(`tail: could not start wrangler (${e.message}); run npm install first`);
      resolve(2);
    });
    child.on("exit", (code) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(code ?? 0);
    });
  });
  return { stream: child.stdout, exited };
}

export async function main(
  argv: readonly string[],
  io: { out?: (line: string) => void; err?: (line: string) => void; stdin?: NodeJS.ReadableStream & { isTTY?: boolean } } = {},
): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stdin = io.stdin ?? process.stdin;
  const command = tailCommand()
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const options = command.opts<Options>();
  const filters: EntryFilter[] = [];
  try {
    if (options.route?.length) filters.push(routeFilter(options.route));
    if (options.status?.length) {
      options.status.forEach(statusMatcher);
      filters.push(statusFilter(options.status));
    }
  } catch (error) {
    err(`tail: ${(error as Error).message}`);
    return 2;
  }
  const c = colors(options.format === "json" || !options.color ? false : undefined);
  const render = { c, filter: combine(filters), format: options.format, verbose: options.verbose, warn: err };

  if (options.file !== undefined || !stdin.isTTY) {
    const input = options.file === undefined || options.file === "-" ? stdin : createReadStream(options.file, "utf8");
    try {
      await renderStream(input as AsyncIterable<string | Buffer>, out, render);
    } catch (error) {
      err(`tail: cannot read ${options.file ?? "stdin"}: ${(error as Error).message}`);
      return 2;
    }
    return 0;
  }
  const { stream, exited } = wranglerTail(options.env, err);
  await renderStream(stream, out, render);
  return exited;
}
