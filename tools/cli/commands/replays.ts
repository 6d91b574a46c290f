/**
 * `replay …`: /admin/api/replays (docs/forwarding.md "Replay").
 * - `replay <uuid>` or `replay --type … [filter]` (`--every-event` for all): `--dry-run` prints the counts and sends
 *   nothing; otherwise the job starts and is followed with a progress bar until done, or Ctrl-C.
 * - `replay status [id]` (one job, `--follow` to follow it; without an id: the newest jobs), `replay list`,
 *   `replay cancel <id>`.
 */
import type { Command } from "commander";
import type { DryRun, ReplayJob } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import { UsageError } from "../errors.ts";
import { dryRunView, jobDetail, jobsTable } from "../views.ts";
import { addFollowOptions, followAndPrint, integer, type FollowFlags } from "./shared.ts";

export interface ReplayFlags extends FollowFlags {
  type?: string;
  since?: string;
  until?: string;
  timeField?: string;
  actor?: string;
  outcome?: string;
  org?: string;
  everyEvent?: boolean;
  destination?: string;
  rate?: number;
  dryRun?: boolean;
}

/** The POST /admin/api/replays body: one event (`uuid`) or a filter from the flags. */
export function replayBody(uuid: string | undefined, flags: ReplayFlags): Record<string, unknown> {
  const filter: Record<string, string> = {};
  for (const key of ["type", "since", "until", "timeField", "actor", "outcome", "org"] as const) {
    if (flags[key] !== undefined) filter[key] = flags[key];
  }
  const hasFilter = Object.keys(filter).length > 0 || flags.everyEvent === true;
  if (uuid !== undefined && hasFilter) throw new UsageError("give an event uuid or filter flags, not both");
  if (uuid === undefined && !hasFilter) {
    throw new UsageError("say what to replay: an event uuid, filter flags (--type, --since, --until, --actor, --outcome, --org), or --every-event");
  }
  return {
    ...(uuid !== undefined ? { eventUuid: uuid } : { filter }),
    ...(flags.destination !== undefined && { destinationId: flags.destination }),
    ...(flags.rate !== undefined && { ratePerSecond: flags.rate }),
    ...(flags.dryRun && { dryRun: true }),
  };
}

export function replayCommands(program: Command, ctx: CommandContext): void {
  const job = (id: string) => `/replays/${encodeURIComponent(id)}`;

  const replay = addFollowOptions(
    program
      .command("replay")
      .description("send stored events again — one, or a filter's — as a job followed to its end (subcommands: status, list, cancel)")
      .argument("[uuid]", "one event to replay")
      .option("--type <type>", 'filter: an exact event type, a prefix ending in ".*", or "*"')
      .option("--since <time>", "filter: ISO 8601 with a time zone, inclusive")
      .option("--until <time>", "filter: ISO 8601 with a time zone, exclusive")
      .option("--time-field <field>", "filter: published (default) or received")
      .option("--actor <actor>", "filter: actor.id or actor.alternateId")
      .option("--outcome <result>", "filter: outcome.result")
      .option("--org <host>", "filter: the Okta org host")
      .option("--every-event", "every stored event (an empty filter)")
      .option("--destination <id>", "only this destination (default: every destination whose filter matches the event now)")
      .option("--rate <n>", "deliveries handed to the queue per second, 1-100 (default 10)", integer(1, 100))
      .option("--dry-run", "print how many events match, per destination, and send nothing"),
  ).action(async (uuid: string | undefined, flags: ReplayFlags) => {
    const body = replayBody(uuid, flags);
    const answer = await ctx.api().call<DryRun | ReplayJob>("POST", "/replays", { body });
    if ("dryRun" in answer) return ctx.print(answer, dryRunView);
    await followAndPrint(ctx, answer, flags);
  });

  addFollowOptions(
    replay
      .command("status")
      .description("one job and its progress (--follow: until done); without an id, the newest jobs")
      .argument("[id]", "job_…"),
    false,
  ).action(async (id: string | undefined, flags: FollowFlags) => {
    if (id === undefined) {
      const res = await ctx.api().call<{ jobs: ReplayJob[]; nextCursor: string | null }>("GET", "/replays");
      return ctx.print(res, (r, c) => jobsTable(r.jobs, c));
    }
    const current = await ctx.api().call<ReplayJob>("GET", job(id));
    if (flags.follow === true) return followAndPrint(ctx, current, flags);
    ctx.print(current, jobDetail);
  });

  replay
    .command("list")
    .description("replay and redrive jobs, newest first")
    .option("--limit <n>", "jobs per page, 1-100 (default 20)", integer(1, 100))
    .option("--cursor <cursor>", "continue after a previous page (its nextCursor)")
    .action(async (flags: { limit?: number; cursor?: string }) => {
      const res = await ctx.api().call<{ jobs: ReplayJob[]; nextCursor: string | null }>("GET", "/replays", { query: { limit: flags.limit, cursor: flags.cursor } });
      ctx.print(res, (r, c) => jobsTable(r.jobs, c));
      if (res.nextCursor !== null && !ctx.json()) ctx.io.err(ctx.colors().dim(`more: --cursor ${res.nextCursor}`));
    });

  replay
    .command("cancel")
    .description("stop a running job at its next step (what it already handed to the queue still goes)")
    .argument("<id>", "job_…")
    .action(async (id: string) => ctx.print(await ctx.api().call<ReplayJob>("POST", `${job(id)}/cancel`), jobDetail));
}
