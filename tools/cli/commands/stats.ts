/**
 * `stats …`: /admin/api/stats (docs/operations.md "Stats"): the overview (D1 size against its limit, stored range,
 * outbox, retention), events received per type, deliveries per destination, inline hook decisions per type.
 */
import type { Command } from "commander";
import type { DeliveryStats, EventStats, InlineStats, StatsOverview } from "../api-types.ts";
import type { CommandContext } from "../cli.ts";
import { deliveryStatsView, eventStatsView, inlineStatsView, statsOverview } from "../views.ts";

export function statsCommands(program: Command, ctx: CommandContext): void {
  const stats = program
    .command("stats")
    .description("D1 size, stored range, outbox and retention (subcommands: events, deliveries, inline)")
    .action(async () => ctx.print(await ctx.api().call<StatsOverview>("GET", "/stats"), statsOverview));

  stats
    .command("events")
    .description("events received per type, by hour or UTC day (default: the last 24 hours)")
    .option("--bucket <bucket>", "hour (default) or day")
    .option("--since <time>", "ISO 8601 date-time")
    .option("--until <time>", "ISO 8601 date-time, exclusive (default: now)")
    .option("--type <type>", "an event type or a prefix (user.session.*)")
    .action(async (flags: { bucket?: string; since?: string; until?: string; type?: string }) =>
      ctx.print(await ctx.api().call<EventStats>("GET", "/stats/events", { query: flags }), eventStatsView),
    );

  stats
    .command("deliveries")
    .description("per destination: delivered, dead, retrying, waiting, success rate, p50/p95 latency (default: the last 24 hours)")
    .option("--since <time>", "ISO 8601 date-time")
    .option("--until <time>", "ISO 8601 date-time, exclusive (default: now)")
    .option("--destination <id>", "only this destination")
    .action(async (flags: { since?: string; until?: string; destination?: string }) =>
      ctx.print(
        await ctx.api().call<DeliveryStats>("GET", "/stats/deliveries", { query: { since: flags.since, until: flags.until, destinationId: flags.destination } }),
        deliveryStatsView,
      ),
    );

  stats
    .command("inline")
    .description("per inline hook type: calls, decisions, decided by, fallbacks, p50/p95/p99 latency (default: the last 24 hours)")
    .option("--since <time>", "ISO 8601 date-time")
    .option("--until <time>", "ISO 8601 date-time, exclusive (default: now)")
    .option("--type <type>", "only this inline hook type")
    .action(async (flags: { since?: string; until?: string; type?: string }) =>
      ctx.print(await ctx.api().call<InlineStats>("GET", "/stats/inline", { query: flags }), inlineStatsView),
    );
}
