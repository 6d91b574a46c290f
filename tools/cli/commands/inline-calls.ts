/**
 * `inline-calls`: /admin/api/inline-calls (docs/inline-hooks.md "Finding inline hook calls"): the inline hook audit,
 * newest first, with every filter of the API as a flag (values are judged by the API: a bad one is its 400, naming
 * the parameter). A page may be short — even empty — while more match (each page reads a bounded number of D1
 * rows): `--all` follows `nextCursor` to the end, at most `--max-pages` pages. `stats inline` is in ./stats.ts.
 */
import type { Command } from "commander";
import type { InlineCall, InlineCallPage } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import type { Query } from "../client.ts";
import { inlineCallsTable } from "../views.ts";
import { integer, printPages } from "./shared.ts";

export interface InlineCallFlags {
  type?: string;
  decision?: string;
  decidedBy?: string;
  fallbackReason?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
  maxPages: number;
}

/** The search's query string from the flags. */
export function inlineCallQuery(flags: InlineCallFlags): Query {
  return {
    type: flags.type,
    decision: flags.decision,
    decidedBy: flags.decidedBy,
    fallbackReason: flags.fallbackReason,
    since: flags.since,
    until: flags.until,
    limit: flags.limit ?? (flags.all ? 200 : undefined),
    cursor: flags.cursor,
  };
}

export function inlineCallCommands(program: Command, ctx: CommandContext): void {
  program
    .command("inline-calls")
    .description("inline hook calls, newest first: what each decided, by what, why it fell back, how fast")
    .option("--type <type>", "token, registration, password-import, saml, user-import or telephony")
    .option("--decision <decision>", "DENY, ALLOW, VERIFIED, patch, error, empty… (case-insensitive)")
    .option("--decided-by <who>", 'handler, default, fallback, rules:<id>, or a prefix ending in * or : ("rules:*")')
    .option("--fallback-reason <reason>", "deadline, handler_error, rule_error, invalid_response or response_too_large")
    .option("--since <time>", "ISO 8601 with a time zone, inclusive (2026-11-24T00:00:00Z)")
    .option("--until <time>", "ISO 8601 with a time zone, exclusive")
    .option("--limit <n>", "calls per page, 1-200 (default 50; 200 with --all)", integer(1, 200))
    .option("--cursor <cursor>", "continue after a previous page (its nextCursor)")
    .option("--all", "follow nextCursor until the last page")
    .option("--max-pages <n>", "with --all: stop after this many pages", integer(1, 10_000), 1000)
    .action(async (flags: InlineCallFlags) => {
      const api = ctx.api();
      const query = inlineCallQuery(flags);
      await printPages<InlineCall>(
        ctx,
        flags,
        { key: "calls", noun: "calls" },
        async (cursor) => {
          const page = await api.call<InlineCallPage>("GET", "/inline-calls", { query: { ...query, cursor } });
          return { items: page.calls, nextCursor: page.nextCursor };
        },
        inlineCallsTable,
      );
    });
}
