/**
 * `events search` and `events get`: /admin/api/events (docs/forwarding.md "Finding events"). Every filter of the
 * API is a flag; values are judged by the API (a bad one is its 400, naming the parameter). A page may be short —
 * even empty — while more match (each page reads a bounded number of D1 rows): `--all` follows `nextCursor` to the
 * end, at most `--max-pages` pages.
 */
import type { Command } from "commander";
import type { EventDetail, EventPage, EventSummary } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import type { Query } from "../client.ts";
import { eventDetail, eventsTable } from "../views.ts";
import { integer, list, printPages } from "./shared.ts";

export interface EventSearchFlags {
  type?: string;
  since?: string;
  until?: string;
  timeField?: string;
  actor?: string;
  outcome?: string;
  target?: string;
  org?: string;
  forward?: string[];
  limit?: number;
  cursor?: string;
  all?: boolean;
  maxPages: number;
}

/** The search's query string from the flags. */
export function eventSearchQuery(flags: EventSearchFlags): Query {
  return {
    type: flags.type,
    since: flags.since,
    until: flags.until,
    timeField: flags.timeField,
    actor: flags.actor,
    outcome: flags.outcome,
    target: flags.target,
    org: flags.org,
    forward: flags.forward?.join(","),
    limit: flags.limit ?? (flags.all ? 200 : undefined),
    cursor: flags.cursor,
  };
}

export function eventCommands(program: Command, ctx: CommandContext): void {
  const group = program.command("events").description("stored Okta events: search, and one in detail with where it went");

  group
    .command("search")
    .description("search stored events, newest first")
    .option("--type <type>", 'an exact event type, a prefix ending in ".*" (user.lifecycle.*), or "*"')
    .option("--since <time>", "ISO 8601 with a time zone, inclusive (2026-11-24T00:00:00Z)")
    .option("--until <time>", "ISO 8601 with a time zone, exclusive")
    .option("--time-field <field>", "what --since/--until apply to: published (Okta's time, default) or received")
    .option("--actor <actor>", "actor.id or actor.alternateId, exactly")
    .option("--outcome <result>", "outcome.result: SUCCESS, FAILURE, DENY…")
    .option("--target <id>", "some target[].id")
    .option("--org <host>", "the Okta org the event came from (acme.okta.com)")
    .option("--forward <states>", "forward states, comma-separated: pending, fanned_out, unrouted, skipped", list)
    .option("--limit <n>", "events per page, 1-200 (default 50; 200 with --all)", integer(1, 200))
    .option("--cursor <cursor>", "continue after a previous page (its nextCursor)")
    .option("--all", "follow nextCursor until the last page")
    .option("--max-pages <n>", "with --all: stop after this many pages", integer(1, 10_000), 1000)
    .action(async (flags: EventSearchFlags) => {
      const api = ctx.api();
      const query = eventSearchQuery(flags);
      await printPages<EventSummary>(
        ctx,
        flags,
        { key: "events", noun: "events" },
        async (cursor) => {
          const page = await api.call<EventPage>("GET", "/events", { query: { ...query, cursor } });
          return { items: page.events, nextCursor: page.nextCursor };
        },
        eventsTable,
      );
    });

  group
    .command("get")
    .alias("show")
    .description("one event: its fields, where it went (every delivery and attempt), and with --payload Okta's event")
    .argument("<uuid>", "the event's uuid")
    .option("--payload", "print Okta's event object too")
    .action(async (uuid: string, flags: { payload?: boolean }) => {
      const event = await ctx.api().call<EventDetail>("GET", `/events/${encodeURIComponent(uuid)}`);
      ctx.print(event, (e, c) => eventDetail(e, c, { payload: flags.payload === true }));
    });
}
