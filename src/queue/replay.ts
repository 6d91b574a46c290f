/**
 * Running replay and redrive jobs (docs/forwarding.md "Replay", "Dead letters"): one step per {kind:"replay"}
 * message, each putting one page of the job's selection back to work through the normal delivery path — the
 * same claim, attempt, retry schedule, pause, sweep and dead letter as any delivery (src/queue/forward.ts) — then
 * sending the next step, delayed so the job hands at most `ratePerSecond` deliveries per second to the queue.
 *
 * A step (1) takes the job's lease for its step number (a duplicate message, or a stale one, does nothing), (2)
 * reads its page — events of the replay's filter through the bounded search (src/storage/event-search.ts), or the
 * destination's oldest dead letters — and routes each event to the destinations it goes to now
 * (src/okta/routing.ts), (3) in one transaction reopens those deliveries (src/storage/reopen-deliveries.ts), counts
 * them in the job and moves the job to its next step, then (4) enqueues the deliveries and (5) the next step. A
 * failure before (3) leaves the step to the retried message; after it, the deliveries are pending (the outbox sweep
 * enqueues overdue ones) and a lost next-step message is re-sent by the job sweep (src/jobs/replay-sweep.ts).
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { replayMessageId } from "../forwarding/signing";
import { isValidEventId, logEventSchema } from "../okta/event-hook";
import { routesTo, type RoutableEvent } from "../okta/routing";
import { allRows, firstRow } from "../storage/d1";
import { deadLettersToRedrive, type DeadLetter } from "../storage/dead-letters";
import type { DeliveryKey } from "../storage/deliveries";
import { routableDestinationsStatement, toDestination, type Destination, type DestinationRow } from "../storage/destinations";
import { searchEvents, type EventSummary } from "../storage/event-search";
import { FORWARD, getEventStatement, outboxHasStatement, toStoredEvent, type EventRow } from "../storage/events";
import {
  claimJobStep,
  finishStepStatement,
  releaseJobStep,
  type ReplayJob,
} from "../storage/replay-jobs";
import {
  deleteDeadLettersStatement,
  deleteReopenedDeadLettersStatement,
  openFanOutDeliveriesStatement,
  reopenDeadStatement,
  reopenedKeys,
  reopenForReplayStatement,
  type ReplayPair,
} from "../storage/reopen-deliveries";
import { enqueueDeliveries, MAX_DELAY_SECONDS } from "./enqueue";
import type { ForwardMessage } from "./messages";

/** How long a step holds its job: far more than a step takes (a few D1 round trips and queue sends). */
export const STEP_LEASE_MS = 5 * 60_000;
/** Most events a replay step takes: about five seconds of its rate, and at most 100. */
export const MAX_STEP_EVENTS = 100;
/** Rows a replay step's search reads at most (a background job, so more than an interactive page). */
export const STEP_SCAN_BUDGET = 2_000;
/** Dead letters a redrive step takes. */
export const REDRIVE_PAGE = 100;

export interface StepResult {
  outcome: "not_due" | "continues" | "finished";
  matched: number;
  enqueued: number;
}

interface StepWork {
  /** Statements reopening deliveries (their RETURNING rows are what to enqueue), then any others. */
  statements: D1PreparedStatement[];
  /** Which statements RETURN the deliveries they reopened. */
  reopening: number[];
  /** Every (event, destination) pair selected, for the job's counters. */
  pairs: DeliveryKey[];
  cursor: unknown;
  done: boolean;
}

/** The fields of a stored event that routing reads: from its payload when a condition needs more than columns. */
function routable(event: { eventType: string; actorId: string | null; outcomeResult: string | null; payload?: string | null }): RoutableEvent | null {
  if (event.payload === undefined) {
    return { eventType: event.eventType, actor: { id: event.actorId }, outcome: { result: event.outcomeResult } };
  }
  if (event.payload === null) return null;
  try {
    const parsed = logEventSchema.safeParse(JSON.parse(event.payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const needsPayload = (destinations: readonly Destination[]) => destinations.some((d) => d.conditions.targetTypes !== undefined);

/** The destinations a job sends to: its own, or all (whichever state: a paused one's deliveries wait). */
function targets(destinations: Destination[], destinationId: string | null): Destination[] {
  return destinationId === null ? destinations : destinations.filter((d) => d.id === destinationId);
}

async function replayPairs(
  events: ReadonlyArray<{ uuid: string; eventType: string; actorId: string | null; outcomeResult: string | null; payload?: string | null }>,
  destinations: readonly Destination[],
  jobId: number,
): Promise<ReplayPair[]> {
  const pairs: ReplayPair[] = [];
  for (const event of events) {
    if (!isValidEventId(event.uuid)) continue;
    const fields = routable(event);
    if (!fields) continue;
    for (const destination of destinations) {
      if (!routesTo(fields, destination)) continue;
      pairs.push({ eventUuid: event.uuid, destinationId: destination.id, webhookId: await replayMessageId(event.uuid, destination.id, jobId) });
    }
  }
  return pairs;
}

/** Events a step of this rate takes: about five seconds' worth. */
export function stepEvents(ratePerSecond: number): number {
  return Math.max(1, Math.min(MAX_STEP_EVENTS, ratePerSecond * 5));
}

async function replayWork(env: Env, job: ReplayJob, now: number): Promise<StepWork> {
  const db = env.DB;
  const destinationRows = allRows<DestinationRow>(await routableDestinationsStatement(db).all());
  const destinations = targets(destinationRows.map(toDestination), job.destinationId);
  const withPayload = needsPayload(destinations);
  let events: Array<Pick<EventSummary, "uuid" | "eventType" | "actorId" | "outcomeResult" | "payload">> = [];
  let cursor: unknown = null;
  let done = true;
  if ("eventUuid" in job.selection) {
    const row = firstRow<EventRow>(await getEventStatement(db, job.selection.eventUuid).all());
    const pending = row ? firstRow(await outboxHasStatement(db, row.batch_id).all()) !== undefined : false;
    if (row && row.forward !== FORWARD.skip && !pending) {
      let payload: string | null | undefined;
      if (withPayload) {
        try {
          payload = toStoredEvent(row).payload;
        } catch {
          payload = null;
        }
      }
      events = [{ uuid: row.uuid, eventType: row.event_type, actorId: row.actor_id, outcomeResult: row.outcome_result, ...(withPayload && { payload }) }];
    }
  } else if ("filter" in job.selection) {
    // Loop-guarded events are never forwarded; events still waiting for fan-out will be, to every destination.
    const page = await searchEvents(db, { ...job.selection.filter, forward: ["fanned_out", "unrouted"] }, {
      before: typeof job.cursor === "number" ? job.cursor : job.rangeHigh,
      limit: stepEvents(job.ratePerSecond),
      budget: STEP_SCAN_BUDGET,
      withPayload,
    });
    events = page.events;
    cursor = page.nextBefore;
    done = page.nextBefore === null || (job.rangeLow !== null && page.nextBefore <= job.rangeLow);
  }
  const pairs = destinations.length > 0 ? await replayPairs(events, destinations, job.id) : [];
  if (pairs.length === 0) return { statements: [], reopening: [], pairs, cursor, done };
  return {
    statements: [reopenForReplayStatement(db, pairs, job.id, now), deleteReopenedDeadLettersStatement(db, pairs, job.id, now)],
    reopening: [0],
    pairs,
    cursor,
    done,
  };
}

export interface RedrivePlan {
  statements: D1PreparedStatement[];
  reopening: number[];
  pairs: DeliveryKey[];
  /** Event-level letters that cannot be redriven, and why (they are kept). */
  kept: Array<{ letter: DeadLetter; reason: string }>;
}

/**
 * Statements that redrive `letters`: a destination's dead delivery back to pending (fresh schedule, same
 * webhook-id); an event-level letter (its fan-out never happened) becomes the first deliveries of the event to
 * every destination it routes to now. Letters redriven, or stale (their delivery is no longer dead), are removed;
 * an event that cannot be forwarded keeps its letter.
 */
export async function planRedrive(env: Env, letters: readonly DeadLetter[], jobId: number | null, now: number): Promise<RedrivePlan> {
  const db = env.DB;
  const destinationLetters = letters.filter((l) => l.destinationId !== "").map((l) => ({ eventUuid: l.eventUuid, destinationId: l.destinationId }));
  const eventLevel = letters.filter((l) => l.destinationId === "");
  const kept: RedrivePlan["kept"] = [];
  const fanOutPairs: DeliveryKey[] = [];
  const removed: DeliveryKey[] = [...destinationLetters];
  if (eventLevel.length > 0) {
    const reads = await db.batch<Record<string, unknown>>([
      routableDestinationsStatement(db),
      ...eventLevel.flatMap((l) => [getEventStatement(db, l.eventUuid), eventInOutboxStatement(db, l.eventUuid)]),
    ]);
    const destinations = allRows<DestinationRow>(reads[0]).map(toDestination);
    eventLevel.forEach((letter, i) => {
      const row = firstRow<EventRow>(reads[1 + 2 * i]);
      if (row && firstRow(reads[2 + 2 * i])) {
        // Its fan-out is still to come (the outbox): it goes to every matching destination then.
        removed.push({ eventUuid: letter.eventUuid, destinationId: "" });
        return;
      }
      const reason = !row
        ? "the event is no longer stored"
        : !isValidEventId(row.uuid)
          ? "the event's uuid is not a valid identifier: it cannot be forwarded"
          : row.forward === FORWARD.skip
            ? "the event's actor is loop-guarded (IGNORE_ACTOR_IDS): it is never forwarded"
            : null;
      let fields: RoutableEvent | null = null;
      if (reason === null) {
        try {
          fields = routable({ eventType: row!.event_type, actorId: row!.actor_id, outcomeResult: row!.outcome_result, payload: toStoredEvent(row!).payload });
        } catch {
          fields = null;
        }
      }
      if (reason !== null || fields === null) {
        kept.push({ letter, reason: reason ?? "the stored payload cannot be read: it cannot be forwarded" });
        return;
      }
      for (const destination of destinations) if (routesTo(fields, destination)) fanOutPairs.push({ eventUuid: letter.eventUuid, destinationId: destination.id });
      removed.push({ eventUuid: letter.eventUuid, destinationId: "" });
    });
  }
  const statements: D1PreparedStatement[] = [];
  const reopening: number[] = [];
  if (destinationLetters.length > 0) reopening.push(statements.push(reopenDeadStatement(db, destinationLetters, jobId, now)) - 1);
  if (fanOutPairs.length > 0) reopening.push(statements.push(openFanOutDeliveriesStatement(db, fanOutPairs, jobId, now)) - 1);
  if (removed.length > 0) statements.push(deleteDeadLettersStatement(db, removed));
  return { statements, reopening, pairs: [...destinationLetters, ...fanOutPairs], kept };
}

/** Whether the event's batch still waits in the outbox for its fan-out. */
function eventInOutboxStatement(db: D1Database, eventUuid: string): D1PreparedStatement {
  return db.prepare("SELECT 1 AS pending FROM events e JOIN forward_outbox o ON o.batch_id = e.batch_id WHERE e.uuid = ?1").bind(eventUuid);
}

async function redriveWork(env: Env, job: ReplayJob, now: number): Promise<StepWork> {
  const after = Array.isArray(job.cursor) ? (job.cursor as [number, string]) : null;
  const letters = await deadLettersToRedrive(env.DB, job.destinationId ?? "", job.createdAt, after, REDRIVE_PAGE);
  const plan = await planRedrive(env, letters, job.id, now);
  const last = letters[letters.length - 1];
  return {
    statements: plan.statements,
    reopening: plan.reopening,
    pairs: plan.pairs,
    cursor: last ? [last.recordedAt, last.eventUuid] : after,
    done: letters.length < REDRIVE_PAGE,
  };
}

/** Run step `step` of job `jobId` (from its message, or inline for a one-event replay). */
export async function runReplayStep(deps: { env: Env; config: Config }, jobId: number, step: number, now: number): Promise<StepResult> {
  const { env } = deps;
  const job = await claimJobStep(env.DB, jobId, step, now, STEP_LEASE_MS);
  if (!job) return { outcome: "not_due", matched: 0, enqueued: 0 };
  let committed = false;
  try {
    const work = job.kind === "replay" ? await replayWork(env, job, now) : await redriveWork(env, job, now);
    const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(work.pairs.length / job.ratePerSecond));
    const statements = [
      ...work.statements,
      finishStepStatement(env.DB, job.id, step, work.pairs, {
        matched: work.pairs.length,
        cursor: work.cursor,
        done: work.done,
        nextStepAt: now + delaySeconds * 1000,
        now,
      }),
    ];
    const results = await env.DB.batch(statements);
    committed = true;
    const reopened = work.reopening.flatMap((i) => reopenedKeys(results[i]));
    await enqueueDeliveries(env.FORWARD_QUEUE, reopened.map((k) => ({ uuid: k.eventUuid, destinationId: k.destinationId })));
    if (!work.done) {
      await env.FORWARD_QUEUE.send({ kind: "replay", jobId: job.id, step: step + 1 } satisfies ForwardMessage, delaySeconds > 0 ? { delaySeconds } : undefined);
    }
    return { outcome: work.done ? "finished" : "continues", matched: work.pairs.length, enqueued: reopened.length };
  } catch (error) {
    if (!committed) await releaseJobStep(env.DB, job.id, step).catch(() => undefined);
    throw error;
  }
}
