/** What the command groups share: option parsers, JSON files, following cursor pages, and following a job to its end. */
import { InvalidArgumentError, type Command } from "commander";
import type { ReplayJob } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import { EXIT, UsageError } from "../errors.ts";
import { followJob, progressSink } from "../follow.ts";
import { jobDetail } from "../views.ts";

export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A comma-separated list; the option may be repeated. */
export const list = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

export function readJsonFile(ctx: CommandContext, file: string, what: string): unknown {
  let text: string;
  try {
    text = ctx.io.readFile(file);
  } catch (error) {
    throw new UsageError(`${what}: cannot read ${file} (${(error as { code?: string }).code ?? "error"})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what}: ${file} is not JSON (${(error as Error).message})`);
  }
}

/** `--cursor`, `--all` and `--max-pages` of a command that lists a cursor-paged route. */
export interface PagingFlags {
  cursor?: string;
  all?: boolean;
  maxPages: number;
}

/**
 * Read one page from `--cursor` (or the first), or with --all follow nextCursor until the last page or
 * --max-pages; print what was read (`render` for humans, `{ [key]: items, nextCursor }` with --json), then, for
 * humans, where the next page starts ("more may match": a short page of a bounded search can have more after it).
 */
export async function printPages<T>(
  ctx: CommandContext,
  flags: PagingFlags,
  what: { key: string; noun: string },
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  render: (items: T[], c: ReturnType<CommandContext["colors"]>) => string,
): Promise<void> {
  const items: T[] = [];
  let cursor: string | null = flags.cursor ?? null;
  let pages = 0;
  do {
    const page = await fetchPage(cursor ?? undefined);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (flags.all && cursor !== null && pages < flags.maxPages);
  ctx.print({ [what.key]: items, nextCursor: cursor }, (_, c) => render(items, c));
  if (cursor !== null && !ctx.json()) {
    const why = flags.all ? `stopped after ${pages} pages (--max-pages)` : "more may match";
    ctx.io.err(ctx.colors().dim(`${items.length} ${what.noun}; ${why}: --cursor ${cursor}${flags.all ? "" : " for the next page, or --all"}`));
  }
}

export interface FollowFlags {
  follow: boolean;
  followTimeout: number;
}

/**
 * The options of a command that starts a job (followed unless --no-follow) or shows one (followed with --follow).
 */
export function addFollowOptions(command: Command, followByDefault = true): Command {
  return command
    .option(
      followByDefault ? "--no-follow" : "--follow",
      followByDefault ? "start the job and return; follow it later with `replay status <id> --follow`" : "follow the job until it is done",
    )
    .option("--follow-timeout <seconds>", "stop following after this long (the job goes on)", integer(1, 86_400), 600);
}

/**
 * Follow a job the API just started (unless --no-follow), then print it. Ctrl-C stops following (exit 130) with a
 * hint; a follow that reaches --follow-timeout says so and exits 0: the job goes on in the gateway either way.
 */
export async function followAndPrint(ctx: CommandContext, started: ReplayJob, flags: FollowFlags): Promise<void> {
  const c = ctx.colors();
  if (!flags.follow) {
    ctx.print(started, (job) => `${jobDetail(job, c)}\n\n${c.dim(`Follow it: okta-hooks-edge replay status ${job.id} --follow`)}`);
    return;
  }
  const { job, outcome } = await followJob(ctx.api(), started, {
    sink: progressSink(ctx.io.progress),
    signal: ctx.io.signal,
    timeoutMs: flags.followTimeout * 1000,
    ...(ctx.io.followIntervalMs !== undefined && { intervalMs: ctx.io.followIntervalMs }),
  });
  ctx.print(job, (j) => jobDetail(j, c));
  if (outcome === "interrupted") {
    ctx.io.err(c.yellow(`Stopped following; ${job.id} keeps running. Its progress: okta-hooks-edge replay status ${job.id}; to stop it: okta-hooks-edge replay cancel ${job.id}`));
    ctx.exitCode = EXIT.interrupted;
  } else if (outcome === "timeout") {
    ctx.io.err(c.yellow(`Still running after ${flags.followTimeout} s; ${job.id} goes on. Follow again: okta-hooks-edge replay status ${job.id} --follow`));
  }
}
