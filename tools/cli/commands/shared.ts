/** What the command groups share: option parsers, JSON files, and following a job to its end. */
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
