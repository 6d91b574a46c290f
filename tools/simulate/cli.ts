/**
 * `npm run simulate -- [options] [scenario…]`: talks to a gateway the way Okta does and says whether Okta would
 * accept every answer. Exit status: 0 when it would, 1 when Okta would reject (or count as failed) at least one
 * answer, 2 when the simulator could not run (bad option, no secret for a scenario that needs one).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { colors } from "../colors.ts";
import { eligibleEventTypes, selectEventTypes } from "./event-types.ts";
import { loadReport, MAX_CONCURRENCY, MAX_DURATION_SECONDS, MAX_LOAD_REQUESTS, runLoad } from "./load.ts";
import { simulatedOrg } from "./log-events.ts";
import { freshSeed, seededRandom } from "./random.ts";
import { jsonReport, scenarioHeading, stepLine, summaryLines } from "./report.ts";
import { runScenarios } from "./run.ts";
import { SCENARIO_GROUPS, SCENARIOS, selectScenarios, type ScenarioContext } from "./scenarios.ts";
import { DEFAULT_URL, resolveSettings } from "./settings.ts";

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];

interface Options {
  url: string;
  eventSecret?: string;
  inlineSecret?: string;
  eventAuthHeader?: string;
  inlineAuthHeader?: string;
  devVars?: string;
  types?: string[];
  color: boolean;
  maxBatch: number;
  seed?: number;
  load?: number;
  concurrency: number;
  duration: number;
  format: "text" | "json";
}

export function simulateCommand(): Command {
  const scenarioNames = [...Object.keys(SCENARIO_GROUPS), ...SCENARIOS.map((s) => s.name)].join(", ");
  return new Command("simulate")
    .description("Send a gateway what Okta sends (event hook verification and deliveries, every inline hook type) and check each answer against Okta's contract.")
    .argument("[scenario...]", `what to send (default: all): ${scenarioNames}`)
    .option("--url <url>", "the gateway's base URL", DEFAULT_URL)
    .option("--event-secret <value>", "event hook auth header value (default: EVENT_HOOK_SECRETS from the environment or .dev.vars, first of the list)")
    .option("--inline-secret <value>", "inline hook auth header value (default: INLINE_HOOK_SECRETS, likewise)")
    .option("--event-auth-header <name>", "event hook auth header name (default: EVENT_HOOK_AUTH_HEADER, else authorization)")
    .option("--inline-auth-header <name>", "inline hook auth header name (default: INLINE_HOOK_AUTH_HEADER, else authorization)")
    .option("--dev-vars <file>", "the .dev.vars file to read (default: the repository's)")
    .option("--types <types>", `event types to deliver, comma-separated, exact or prefix.* (default: all ${eligibleEventTypes().length} eligible types)`, list)
    .option("--max-batch <n>", "most events in one delivery", integer(1, 500), 25)
    .option("--seed <n>", "repeat a run exactly (the report prints each run's seed)", integer(0, 2 ** 31 - 1))
    .option("--load <n>", `soak: send up to n requests of the scenarios, in turn (at most ${MAX_LOAD_REQUESTS})`, integer(1, MAX_LOAD_REQUESTS))
    .option("--concurrency <n>", "with --load: requests in flight at once", integer(1, MAX_CONCURRENCY), 8)
    .option("--duration <seconds>", "with --load: stop after this long", integer(1, MAX_DURATION_SECONDS), 60)
    .addOption(new Option("--format <format>", "report format").choices(["text", "json"]).default("text"))
    .option("--no-color", "no colours in the report (also: NO_COLOR=1)");
}

/** Runs the simulator; resolves to the exit status. */
export async function main(argv: readonly string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  const command = simulateCommand()
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const options = command.opts<Options>();
  const c = colors(options.format === "json" || !options.color ? false : undefined);

  let scenarios;
  let types;
  try {
    scenarios = selectScenarios(command.args);
    types = selectEventTypes(options.types ?? []);
  } catch (error) {
    err(`simulate: ${(error as Error).message}`);
    return 2;
  }
  const settings = resolveSettings({
    url: options.url,
    eventSecret: options.eventSecret,
    inlineSecret: options.inlineSecret,
    eventAuthHeader: options.eventAuthHeader,
    inlineAuthHeader: options.inlineAuthHeader,
    devVars: options.devVars,
  });
  for (const [which, auth, variable, flag] of [
    ["event", settings.eventAuth, "EVENT_HOOK_SECRETS", "--event-secret"],
    ["inline", settings.inlineAuth, "INLINE_HOOK_SECRETS", "--inline-secret"],
  ] as const) {
    if (!auth && scenarios.some((s) => s.auth === which)) {
      err(`simulate: no ${which} hook secret: pass ${flag}, set ${variable} in the environment, or run \`npm start\` once to write .dev.vars`);
      return 2;
    }
  }
  try {
    new URL(settings.baseUrl);
  } catch {
    err(`simulate: --url ${settings.baseUrl} is not a URL`);
    return 2;
  }

  const seed = options.seed ?? freshSeed();
  const random = seededRandom(seed);
  const ctx: ScenarioContext = {
    baseUrl: settings.baseUrl,
    eventAuth: settings.eventAuth,
    inlineAuth: settings.inlineAuth,
    random,
    org: simulatedOrg(random),
    eventHookId: random.oktaId("who"),
    now: Date.now(),
    types,
    maxBatch: options.maxBatch,
  };
  const secretSources = ["EVENT_HOOK_SECRETS", "INLINE_HOOK_SECRETS"]
    .filter((n) => settings.sources[n])
    .map((n) => `${n} from ${settings.sources[n]}`)
    .join(", ");
  const text = options.format === "text";
  if (text) {
    out(`${c.bold("Okta simulator")} → ${settings.baseUrl}  ${c.dim(`seed ${seed}${secretSources ? `; ${secretSources}` : ""}`)}`);
  }

  if (options.load !== undefined) {
    const load = { requests: options.load, concurrency: options.concurrency, durationSeconds: options.duration };
    if (text) out(c.dim(`soak: ${scenarios.map((s) => s.name).join(", ")}`));
    const result = await runLoad(scenarios, ctx, load);
    if (text) for (const line of loadReport(c, result, load)) out(line);
    else out(JSON.stringify({ seed, baseUrl: settings.baseUrl, load: result }, null, 2));
    return result.failed === 0 ? 0 : 1;
  }

  const run = await runScenarios(scenarios, ctx, (result, scenario, first) => {
    if (!text) return;
    if (first) out(scenarioHeading(c, scenario));
    out(stepLine(c, result));
  });
  if (text) for (const line of summaryLines(c, run)) out(line);
  else out(jsonReport(run, { seed, baseUrl: settings.baseUrl }));
  return run.errors === 0 ? 0 : 1;
}
