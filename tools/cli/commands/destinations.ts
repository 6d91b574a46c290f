/**
 * `destinations …`: /admin/api/destinations (docs/forwarding.md "Admin API"). Create and update take flags, or the
 * whole body as a JSON file (`--from-file`; flags override its fields). The destination's URL is `--endpoint`:
 * `--url` is the gateway's, wherever it appears on the line (a clash would send the admin token to the receiver).
 * The okta auth value of an `okta` destination is a secret: from a file (`--okta-auth-value-file`), never from
 * the command line.
 */
import type { Command } from "commander";
import type { Destination, RotatedSecret } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import { UsageError } from "../errors.ts";
import { destinationDetail, destinationsTable, rotatedSecret } from "../views.ts";
import { integer, list, readJsonFile } from "./shared.ts";

export interface DestinationFlags {
  fromFile?: string;
  name?: string;
  /** The destination's URL (`--endpoint`: `--url` is the gateway's). */
  endpoint?: string;
  eventTypes?: string[];
  outcomeResults?: string[];
  actorIds?: string[];
  targetTypes?: string[];
  format?: string;
  oktaAuthHeader?: string;
  oktaAuthValueFile?: string;
  timeoutMs?: number;
  state?: string;
  paused?: boolean;
}

/** The request body the flags (and the --from-file body) make. */
export function destinationBody(flags: DestinationFlags, readFile: (file: string) => string, fromFile: () => unknown): Record<string, unknown> {
  const base = flags.fromFile !== undefined ? fromFile() : {};
  if (typeof base !== "object" || base === null || Array.isArray(base)) throw new UsageError("--from-file: the file must hold a JSON object");
  const body: Record<string, unknown> = { ...base };
  if (flags.name !== undefined) body.name = flags.name;
  if (flags.endpoint !== undefined) body.url = flags.endpoint;
  if (flags.eventTypes !== undefined) body.eventTypes = flags.eventTypes;
  const conditions: Record<string, string[]> = { ...((body.conditions as Record<string, string[]> | undefined) ?? {}) };
  if (flags.outcomeResults !== undefined) conditions.outcomeResults = flags.outcomeResults;
  if (flags.actorIds !== undefined) conditions.actorIds = flags.actorIds;
  if (flags.targetTypes !== undefined) conditions.targetTypes = flags.targetTypes;
  if (Object.keys(conditions).length > 0) body.conditions = conditions;
  if (flags.format !== undefined) body.format = flags.format;
  if (flags.oktaAuthHeader !== undefined || flags.oktaAuthValueFile !== undefined) {
    if (flags.oktaAuthValueFile === undefined) throw new UsageError("--okta-auth-header needs --okta-auth-value-file (the value the receiver checks)");
    let value: string;
    try {
      value = readFile(flags.oktaAuthValueFile).trim();
    } catch (error) {
      throw new UsageError(`--okta-auth-value-file: cannot read ${flags.oktaAuthValueFile} (${(error as { code?: string }).code ?? "error"})`);
    }
    body.oktaAuth = { ...(flags.oktaAuthHeader !== undefined && { header: flags.oktaAuthHeader }), value };
  }
  if (flags.timeoutMs !== undefined) body.timeoutMs = flags.timeoutMs;
  if (flags.state !== undefined) body.state = flags.state;
  if (flags.paused) body.state = "paused";
  return body;
}

function bodyOptions(command: Command): Command {
  return command
    .option("--from-file <file>", "the request body as a JSON file (docs/forwarding.md); flags override its fields")
    .option("--name <name>", "a name for people")
    .option("--endpoint <url>", "the destination's URL, where events are POSTed (https, public)")
    .option("--event-types <types>", 'exact types or prefixes ending in ".*", comma-separated (default "*")', list)
    .option("--outcome-results <results>", "only events with one of these outcome.result values (SUCCESS, FAILURE…)", list)
    .option("--actor-ids <ids>", "only events by one of these actor.id values", list)
    .option("--target-types <types>", "only events with a target of one of these types (User, AppInstance…)", list)
    .option("--format <format>", "standard (Standard Webhooks) or okta (Okta's own envelope)")
    .option("--okta-auth-header <name>", "format okta: the header the receiver checks (default authorization)")
    .option("--okta-auth-value-file <file>", "format okta: a file holding the value the receiver checks")
    .option("--timeout-ms <ms>", "attempt timeout, 1000-30000", integer(1000, 30_000));
}

export function destinationCommands(program: Command, ctx: CommandContext): void {
  const c = () => ctx.colors();
  const group = program.command("destinations").alias("dst").description("forwarding destinations: list, get, create, update, pause, resume, rotate-secret, delete");
  const id = (value: string) => `/destinations/${encodeURIComponent(value)}`;
  const body = (flags: DestinationFlags) =>
    destinationBody(flags, ctx.io.readFile, () => readJsonFile(ctx, flags.fromFile!, "--from-file"));

  group
    .command("list")
    .description("every destination")
    .action(async () => {
      const res = await ctx.api().call<{ destinations: Destination[] }>("GET", "/destinations");
      ctx.print(res, (r) => destinationsTable(r.destinations, c()));
    });

  group
    .command("get")
    .description("one destination")
    .argument("<id>", "dst_…")
    .action(async (value: string) => ctx.print(await ctx.api().call<Destination>("GET", id(value)), destinationDetail));

  bodyOptions(group.command("create").description("create a destination; its signing secret is printed this once"))
    .option("--paused", "create it paused (events wait until it is resumed)")
    .action(async (flags: DestinationFlags) => {
      const input = body(flags);
      if (input.name === undefined || input.url === undefined) throw new UsageError("create needs --name and --endpoint (or name and url in --from-file)");
      ctx.print(await ctx.api().call<Destination>("POST", "/destinations", { body: input }), destinationDetail);
    });

  bodyOptions(group.command("update").description("change a destination's fields").argument("<id>", "dst_…"))
    .option("--state <state>", "active, paused or disabled")
    .action(async (value: string, flags: DestinationFlags) => {
      const input = body(flags);
      if (Object.keys(input).length === 0) throw new UsageError("update needs at least one field to change (see --help)");
      ctx.print(await ctx.api().call<Destination>("PATCH", id(value), { body: input }), destinationDetail);
    });

  for (const [name, state, what] of [
    ["pause", "paused", "pause a destination: its deliveries wait"],
    ["resume", "active", "resume (or re-enable) a destination and send what waited"],
  ] as const) {
    group
      .command(name)
      .description(what)
      .argument("<id>", "dst_…")
      .action(async (value: string) => ctx.print(await ctx.api().call<Destination>("PATCH", id(value), { body: { state } }), destinationDetail));
  }

  group
    .command("rotate-secret")
    .description("a new signing secret (printed this once); the previous one keeps signing for the grace period")
    .argument("<id>", "dst_…")
    .option("--grace-period <seconds>", "how long the previous secret keeps signing, 0-604800 (default 86400)", integer(0, 604_800))
    .action(async (value: string, flags: { gracePeriod?: number }) => {
      const options = flags.gracePeriod === undefined ? {} : { body: { gracePeriodSeconds: flags.gracePeriod } };
      ctx.print(await ctx.api().call<RotatedSecret>("POST", `${id(value)}/rotate-secret`, options), rotatedSecret);
    });

  group
    .command("delete")
    .description("delete a destination with its deliveries, attempts and dead letters")
    .argument("<id>", "dst_…")
    .action(async (value: string) => {
      await ctx.api().call("DELETE", id(value));
      ctx.print({ deleted: value }, () => `Deleted ${value}.`);
    });
}
