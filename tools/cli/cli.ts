/**
 * The admin CLI (`npm run cli -- …`, or `okta-hooks-edge …` through package.json's bin): commander's program with
 * one group of commands per area of the admin API (./commands/), the connection settings (./settings.ts), and
 * the one place that turns what ended a command into its exit code and message (./errors.ts has the codes).
 *
 * `runCli` takes everything from the outside world as `CliIo` — output, environment, files, fetch, Ctrl-C — so the
 * tests run it in-process (test/tools/cli.test.ts) and the entry (./main.ts) only wires the real ones.
 */
import { Command, CommanderError, Option } from "commander";
import { colors, type Colors } from "../colors.ts";
import { apiClient, type ApiClient } from "./client.ts";
import { deadLetterCommands } from "./commands/dead-letters.ts";
import { destinationCommands } from "./commands/destinations.ts";
import { eventCommands } from "./commands/events.ts";
import { inlineCallCommands } from "./commands/inline-calls.ts";
import { replayCommands } from "./commands/replays.ts";
import { ruleCommands } from "./commands/rules.ts";
import { statsCommands } from "./commands/stats.ts";
import { ApiRefusal, EXIT, Interrupted, Unreachable, UsageError } from "./errors.ts";
import type { ProgressStream } from "./follow.ts";
import { DEFAULT_URL, resolveConnection, TOKEN_ENV, URL_ENV, type ConnectionOptions } from "./settings.ts";
import { jsonText, terminalSafe } from "./table.ts";

export interface CliIo {
  /** Results: tables, or JSON with --json. */
  out(text: string): void;
  /** Errors, hints, progress lines. */
  err(text: string): void;
  /** Where the progress bar is drawn (stderr). */
  progress: ProgressStream;
  env: Record<string, string | undefined>;
  readFile(path: string): string;
  fetch?: typeof fetch;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Colours; default: picocolors' own rule (a terminal, no NO_COLOR). */
  color?: boolean;
  /** How often a followed job is polled (tests poll fast). */
  followIntervalMs?: number;
}

export interface GlobalOptions extends ConnectionOptions {
  json?: boolean;
  color: boolean;
}

/** What every command gets. */
export interface CommandContext {
  io: CliIo;
  /** The API client for --url and the token, made on first use (so `--help` needs neither). */
  api(): ApiClient;
  json(): boolean;
  colors(): Colors;
  /** `data` as JSON with --json, else as `render` shows it. */
  print<T>(data: T, render: (data: T, c: Colors) => string): void;
  /** The exit code the command ends with when it does not throw (130 after Ctrl-C stopped a follow). */
  exitCode: number;
}

function describeRefusal(error: ApiRefusal): string {
  if (error.status === 401) {
    return `the gateway refused the admin token (401 ${error.code}): check ${TOKEN_ENV} or --token-file — it must be one of the gateway's ADMIN_TOKEN values`;
  }
  return `${error.code} (HTTP ${error.status}): ${error.message}`;
}

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command("okta-hooks-edge")
    .description(
      `Operate an okta-hooks-edge gateway through its admin API: destinations, events, replays, dead letters, inline hook rules and calls, stats.\n` +
        `The admin token comes from ${TOKEN_ENV} or --token-file, never from the command line.`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s.trimEnd()), writeErr: (s) => ctx.io.err(s.trimEnd()) })
    .showHelpAfterError("(add --help for usage)")
    .option("--url <url>", `the gateway's base URL (default: ${URL_ENV}, else ${DEFAULT_URL})`)
    .option("--token-file <file>", `read the admin token from this file (default: ${TOKEN_ENV})`)
    .option("--allow-http", "allow http:// to a host other than this machine (the token then travels in clear)")
    .option("--json", "print the API's answers as JSON, for scripts")
    .addOption(new Option("--no-color", "no colours (also: NO_COLOR=1)"))
    .addHelpText(
      "after",
      "\nExit codes: 0 done, 1 the API refused (its error code and message are printed), 2 usage (a bad option, no token),\n" +
        "3 the gateway could not be reached, 130 Ctrl-C (a followed job keeps running).\nMore: docs/operations.md \"Admin CLI\".",
    );
  const options = () => program.opts<GlobalOptions>();
  ctx.json = () => options().json === true;
  ctx.colors = () => colors(ctx.json() || options().color === false ? false : ctx.io.color);
  let client: ApiClient | undefined;
  ctx.api = () => {
    if (client) return client;
    const { baseUrl, token } = resolveConnection(options(), ctx.io.env, ctx.io.readFile);
    client = apiClient({ baseUrl, token, ...(ctx.io.fetch && { fetch: ctx.io.fetch }), signal: ctx.io.signal });
    return client;
  };
  destinationCommands(program, ctx);
  eventCommands(program, ctx);
  replayCommands(program, ctx);
  deadLetterCommands(program, ctx);
  ruleCommands(program, ctx);
  inlineCallCommands(program, ctx);
  statsCommands(program, ctx);
  return program;
}

/** Run the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx: CommandContext = {
    io,
    api: () => {
      throw new Error("not ready");
    },
    json: () => false,
    colors: () => colors(false),
    print(data, render) {
      io.out(ctx.json() ? jsonText(data) : render(data, ctx.colors()));
    },
    exitCode: EXIT.ok,
  };
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    const c = ctx.colors();
    const fail = (text: string) => io.err(`${c.red("error:")} ${terminalSafe(text)}`);
    if (error instanceof CommanderError) {
      // Help and --version end here with 0; a bad option or argument was already printed.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      fail(error.message);
      return EXIT.usage;
    }
    if (error instanceof ApiRefusal) {
      fail(describeRefusal(error));
      if (ctx.json()) io.out(jsonText({ error: { code: error.code, message: error.message }, status: error.status }));
      return EXIT.refused;
    }
    if (error instanceof Unreachable) {
      fail(`${error.message} (is the gateway running? --url sets where it is)`);
      return EXIT.unreachable;
    }
    if (error instanceof Interrupted) return EXIT.interrupted;
    throw error;
  }
}
