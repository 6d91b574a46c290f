/**
 * The replay use cases (docs/forwarding.md "Replay"): send stored events again — one event, or every event a
 * filter matches — to one destination or to every destination whose filter matches them now, as a job with
 * progress that can be cancelled; or count first (`dryRun`).
 *
 * Rules: a destination's own filter always applies (a replay never sends a destination what it does not
 * subscribe to); loop-guarded events (IGNORE_ACTOR_IDS) are never sent; an event still waiting for fan-out is
 * left to it (it goes to every matching destination anyway). Events stored before a destination existed, or
 * when no destination wanted them, are sent like any other: that is a backfill. A one-event replay runs at once;
 * a filter replay runs through the queue, a step at a time (src/queue/replay.ts), at `ratePerSecond`.
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { logEventSchema } from "../okta/event-hook";
import { matchesEventType, routesTo } from "../okta/routing";
import { runReplayStep } from "../queue/replay";
import { allRows, firstRow } from "../storage/d1";
import { routableDestinationsStatement, toDestination, type Destination, type DestinationRow } from "../storage/destinations";
import { countEvents, eventIdRange, type EventFilter } from "../storage/event-search";
import { FORWARD, getEventStatement, outboxHasStatement, toStoredEvent, type EventRow } from "../storage/events";
import { cancelJob, getJob, insertJob, type ReplayJob } from "../storage/replay-jobs";
import { DESTINATION_ID } from "./destination-input";

export interface ReplayDeps {
  env: Env;
  config: Config;
  /** Epoch ms. */
  now: number;
}

export interface ReplayInput {
  eventUuid?: string;
  filter?: EventFilter;
  destinationId?: string;
  dryRun: boolean;
  ratePerSecond: number;
}

export interface DryRun {
  /** Events the selection matches (loop-guarded ones and those waiting for fan-out excluded). */
  events: number;
  destinations: Array<{ destinationId: string; name: string; events: number; exact: boolean }>;
  /** False when the range was too large to count whole: the counts cover its newest COUNT_MAX_ROWS events. */
  complete: boolean;
}

async function destinationsInScope(env: Env, destinationId: string | undefined): Promise<Destination[]> {
  const all = allRows<DestinationRow>(await routableDestinationsStatement(env.DB).all()).map(toDestination);
  if (destinationId === undefined) return all;
  const one = DESTINATION_ID.test(destinationId) ? all.filter((d) => d.id === destinationId) : [];
  if (one.length === 0) throw new ApiError("invalid_body", "destinationId: no destination with this id");
  return one;
}

/** The stored event a one-event replay sends, or why it cannot be replayed. */
async function replayableEvent(env: Env, uuid: string): Promise<EventRow> {
  const row = uuid.length <= 200 ? firstRow<EventRow>(await getEventStatement(env.DB, uuid).all()) : undefined;
  if (!row) throw new ApiError("invalid_body", "eventUuid: no stored event with this uuid");
  if (row.forward === FORWARD.skip) {
    throw new ApiError("conflict", "eventUuid: the event's actor is loop-guarded (IGNORE_ACTOR_IDS): it is never forwarded.");
  }
  if (firstRow(await outboxHasStatement(env.DB, row.batch_id).all())) {
    throw new ApiError("conflict", "eventUuid: the event is still waiting for fan-out; it will be forwarded to every matching destination.");
  }
  return row;
}

function dryRunOne(row: EventRow, destinations: Destination[]): DryRun {
  let event = null;
  try {
    const parsed = logEventSchema.safeParse(JSON.parse(toStoredEvent(row).payload));
    if (parsed.success) event = parsed.data;
  } catch {
    // An unreadable payload cannot be sent; the count says so (0 everywhere).
  }
  return {
    events: 1,
    destinations: destinations.map((d) => ({ destinationId: d.id, name: d.name, events: event && routesTo(event, d) ? 1 : 0, exact: true })),
    complete: true,
  };
}

async function dryRunFilter(env: Env, filter: EventFilter, destinations: Destination[]): Promise<DryRun> {
  const histogram = await countEvents(env.DB, { ...filter, forward: ["fanned_out", "unrouted"] }, { before: null });
  const total = histogram.groups.reduce((n, g) => n + g.count, 0);
  return {
    events: total,
    destinations: destinations.map((d) => {
      const outcomes = d.conditions.outcomeResults;
      const events = histogram.groups
        .filter((g) => matchesEventType(d.eventTypes, g.eventType) && (!outcomes || outcomes.includes(g.outcomeResult ?? "")))
        .reduce((n, g) => n + g.count, 0);
      // Actor and target conditions are judged on each event when it is sent: the count is then an upper bound.
      return { destinationId: d.id, name: d.name, events, exact: d.conditions.actorIds === undefined && d.conditions.targetTypes === undefined };
    }),
    complete: histogram.complete,
  };
}

/** Count what a replay would send (dryRun), or start it: a one-event replay runs now, a filter replay is queued. */
export async function startReplay(deps: ReplayDeps, input: ReplayInput): Promise<{ dryRun: DryRun } | { job: ReplayJob }> {
  const { env, config, now } = deps;
  const destinations = await destinationsInScope(env, input.destinationId);
  if (input.eventUuid !== undefined) {
    const row = await replayableEvent(env, input.eventUuid);
    if (input.dryRun) return { dryRun: dryRunOne(row, destinations) };
    const job = await insertJob(env.DB, {
      kind: "replay",
      selection: { eventUuid: row.uuid },
      destinationId: input.destinationId ?? null,
      ratePerSecond: input.ratePerSecond,
      rangeLow: null,
      rangeHigh: null,
      now,
    });
    await runReplayStep({ env, config }, job.id, 0, now);
    return { job: (await getJob(env.DB, job.id)) ?? job };
  }
  const filter = input.filter ?? {};
  if (input.dryRun) return { dryRun: await dryRunFilter(env, filter, destinations) };
  // The range is fixed now: events that arrive later are forwarded as usual, not replayed.
  const range = await eventIdRange(env.DB, filter);
  const job = await insertJob(env.DB, {
    kind: "replay",
    selection: { filter },
    destinationId: input.destinationId ?? null,
    ratePerSecond: input.ratePerSecond,
    rangeLow: range.low,
    rangeHigh: Math.max(range.low, range.high),
    now,
  });
  // If this send fails the job is still there: the job sweep sends its first step.
  await env.FORWARD_QUEUE.send({ kind: "replay", jobId: job.id, step: 0 });
  return { job };
}

export async function findJob(db: D1Database, id: number | null): Promise<ReplayJob> {
  const job = id === null ? null : await getJob(db, id);
  if (!job) throw new ApiError("not_found", "No replay job with this id.");
  return job;
}

/** Stop a running job at its next step; deliveries it already handed to the queue still go. */
export async function cancelReplay(deps: ReplayDeps, id: number | null): Promise<ReplayJob> {
  const job = await findJob(deps.env.DB, id);
  if (!(await cancelJob(deps.env.DB, job.id, deps.now))) {
    throw new ApiError("conflict", `The job is ${job.state}; only a running job can be cancelled.`);
  }
  return findJob(deps.env.DB, job.id);
}
