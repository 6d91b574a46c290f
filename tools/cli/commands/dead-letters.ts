/**
 * `dead-letters …`: /admin/api/dead-letters (docs/forwarding.md "Dead letters"): list (by destination and time),
 * show one with its attempts, redrive one — or all of a destination, as a job followed to its end — and delete.
 * A destination is its id, or `fan-out` for events whose fan-out never happened.
 */
import type { Command } from "commander";
import type { DeadLetter, DeadLetterDetail, ReplayJob } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import { UsageError } from "../errors.ts";
import { deadLetterDetail, deadLettersTable } from "../views.ts";
import { addFollowOptions, followAndPrint, integer, printPages, type FollowFlags } from "./shared.ts";

interface ListFlags {
  destination?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
  maxPages: number;
}

export function deadLetterCommands(program: Command, ctx: CommandContext): void {
  const group = program.command("dead-letters").alias("dl").description("deliveries that will not be retried on their own: list, show, redrive, delete");
  const letter = (destination: string, uuid: string) => `/dead-letters/${encodeURIComponent(destination)}/${encodeURIComponent(uuid)}`;

  group
    .command("list")
    .description("dead letters, newest first")
    .option("--destination <id>", "only this destination's (a dst_… id, or fan-out)")
    .option("--since <time>", "recorded at or after (ISO 8601 with a time zone)")
    .option("--until <time>", "recorded before")
    .option("--limit <n>", "per page, 1-200 (default 50; 200 with --all)", integer(1, 200))
    .option("--cursor <cursor>", "continue after a previous page (its nextCursor)")
    .option("--all", "follow nextCursor until the last page")
    .option("--max-pages <n>", "with --all: stop after this many pages", integer(1, 10_000), 1000)
    .action(async (flags: ListFlags) => {
      const query = { destinationId: flags.destination, since: flags.since, until: flags.until, limit: flags.limit ?? (flags.all ? 200 : undefined) };
      const api = ctx.api();
      await printPages<DeadLetter>(
        ctx,
        flags,
        { key: "deadLetters", noun: "dead letters" },
        async (cursor) => {
          const page = await api.call<{ deadLetters: DeadLetter[]; nextCursor: string | null }>("GET", "/dead-letters", { query: { ...query, cursor } });
          return { items: page.deadLetters, nextCursor: page.nextCursor };
        },
        deadLettersTable,
      );
    });

  group
    .command("show")
    .description("one dead letter with its event and every attempt")
    .argument("<destination>", "a dst_… id, or fan-out")
    .argument("<uuid>", "the event's uuid")
    .action(async (destination: string, uuid: string) => ctx.print(await ctx.api().call<DeadLetterDetail>("GET", letter(destination, uuid)), deadLetterDetail));

  addFollowOptions(
    group
      .command("redrive")
      .description("back to work after a fix: one dead letter (with its event uuid), or --all of the destination's as a job")
      .argument("<destination>", "a dst_… id, or fan-out")
      .argument("[uuid]", "the event's uuid (one dead letter)")
      .option("--all", "every dead letter of the destination recorded until now")
      .option("--rate <n>", "with --all: deliveries handed to the queue per second, 1-100 (default 10)", integer(1, 100)),
  ).action(async (destination: string, uuid: string | undefined, flags: FollowFlags & { all?: boolean; rate?: number }) => {
    if (uuid !== undefined && flags.all) throw new UsageError("give an event uuid (one dead letter) or --all, not both");
    if (uuid === undefined && !flags.all) throw new UsageError("say what to redrive: an event uuid, or --all for every dead letter of the destination");
    if (uuid !== undefined) {
      const res = await ctx.api().call<{ redriven: Array<{ destinationId: string; eventUuid: string }> }>("POST", `${letter(destination, uuid)}/redrive`);
      return ctx.print(res, (r) =>
        r.redriven.length === 0
          ? "Nothing to redrive: the delivery is no longer dead; the dead letter was removed."
          : `Redriven: ${r.redriven.map((k) => `${k.eventUuid} → ${k.destinationId}`).join(", ")} (pending now, with a fresh retry schedule).`,
      );
    }
    const body = { destinationId: destination, ...(flags.rate !== undefined && { ratePerSecond: flags.rate }) };
    await followAndPrint(ctx, await ctx.api().call<ReplayJob>("POST", "/dead-letters/redrive", { body }), flags);
  });

  group
    .command("delete")
    .description("acknowledge a dead letter: removed, never redriven (the delivery stays dead)")
    .argument("<destination>", "a dst_… id, or fan-out")
    .argument("<uuid>", "the event's uuid")
    .action(async (destination: string, uuid: string) => {
      await ctx.api().call("DELETE", letter(destination, uuid));
      ctx.print({ deleted: { destinationId: destination, eventUuid: uuid } }, () => `Deleted the dead letter of ${uuid} at ${destination}.`);
    });
}
