/**
 * Fanning one stored batch (one Okta delivery) out to its destinations, and making every first attempt right here
 * instead of one queue message per delivery:
 *
 * 1. one round trip: lease the batch's outbox row (so two copies of the message never fan out at once), read its
 *    events and every destination;
 * 2. route each event (src/okta/routing.ts) and attempt it to each active destination it goes to, at most
 *    MAX_CONCURRENT_SENDS at once across the invocation;
 * 3. one transaction records every outcome and takes the batch out of the outbox: the events each destination
 *    received on their first attempt in ONE `batch_deliveries` row, and a `deliveries` row (the retry state machine,
 *    src/queue/forward.ts) only for what did not go through — a failed attempt (with its attempt row), a dead one
 *    (with its dead letter), a destination that is paused or disabled (waiting);
 * 4. one "delivery" message per failed attempt, delayed until its retry is due.
 *
 * A crash before step 3 leaves the batch in the outbox: its lease runs out and the sweeper enqueues it again, so
 * its events are attempted again (at least once, never lost; receivers dedupe on webhook-id). A failure in step 4
 * leaves overdue deliveries, which the sweeper enqueues.
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { attemptRecord, decide } from "../forwarding/attempt";
import { log } from "../log";
import { isValidEventId, logEventSchema } from "../okta/event-hook";
import { routesTo, type RoutableEvent } from "../okta/routing";
import { allRows, firstRow } from "../storage/d1";
import {
  insertAttemptsStatement,
  insertBatchDeliveriesStatement,
  insertDeadLettersStatement,
  insertOpenDeliveriesStatement,
  type AttemptEntry,
  type DeliveredItem,
  type OpenDelivery,
} from "../storage/deliveries";
import {
  countFailureStatement,
  resetFailuresStatement,
  routableDestinationsStatement,
  toDestination,
  type Destination,
  type DestinationRow,
} from "../storage/destinations";
import {
  batchEventsStatement,
  batchPayloadStatement,
  deleteOutboxStatement,
  FORWARD,
  leaseOutboxStatement,
  openBatchPayload,
  releaseOutbox,
  toStoredEvent,
  type EventRow,
  type StoredEvent,
} from "../storage/events";
import type { StoredPayload } from "../storage/payload-codec";
import { raisedAlerts } from "../storage/alerts";
import { destinationDisabledAlertStatement, dispatchRaisedAlerts } from "./alert-raise";
import { enqueueDeliveries } from "./enqueue";
import { attemptDelivery, disableRuleOf } from "./forward";
import { startingBy, StartedTooLate, type Limit } from "./limit";

/** How long a fan-out holds its batch: well past a destination's longest timeout (60 s) times a few rounds of sends. */
export const OUTBOX_LEASE_MS = 10 * 60_000;
/**
 * First attempts not begun this long after the lease was taken (their turn for one of the invocation's connections
 * waits behind slow destinations) are not made by the fan-out: they become pending deliveries with a delivery
 * message each, attempted like any retry. So a fan-out always ends inside its lease — a send begun by then ends
 * within its destination's timeout (at most 60 s) — and the sweeper never fans a batch out twice.
 */
export const FAN_OUT_SEND_BUDGET_MS = 3 * 60_000;

export const UNFORWARDABLE_REASON = "the event's uuid is not a valid identifier (stored before identifiers were validated): it cannot be forwarded";

export interface FanOutDeps {
  env: Env;
  config: Config;
  limit: Limit;
  random?: () => number;
  /** FAN_OUT_SEND_BUDGET_MS; injectable for tests. */
  sendBudgetMs?: number;
}

export interface FanOutResult {
  outcome: "not_due_or_done" | "fanned_out";
  events: number;
  delivered: number;
  failed: number;
  dead: number;
  waiting: number;
  /** First attempts left to delivery messages: their turn for a connection came after FAN_OUT_SEND_BUDGET_MS. */
  deferred: number;
}

function routableEvent(event: StoredEvent): RoutableEvent {
  try {
    const parsed = logEventSchema.safeParse(JSON.parse(event.payload));
    if (parsed.success) return parsed.data;
  } catch {
    // Stored payloads were validated on the way in; fall back to the type alone rather than lose the event.
  }
  return { eventType: event.eventType };
}

interface Pending {
  event: StoredEvent;
  destination: Destination;
}

export async function fanOutBatch(deps: FanOutDeps, batchId: number): Promise<FanOutResult> {
  const { env, config } = deps;
  const started = Date.now();
  const [leased, eventsRead, payloadRead, destinationsRead] = await env.DB.batch([
    leaseOutboxStatement(env.DB, batchId, started, OUTBOX_LEASE_MS),
    batchEventsStatement(env.DB, batchId),
    batchPayloadStatement(env.DB, batchId),
    routableDestinationsStatement(env.DB),
  ]);
  const result: FanOutResult = { outcome: "not_due_or_done", events: 0, delivered: 0, failed: 0, dead: 0, waiting: 0, deferred: 0 };
  if (!firstRow(leased)) return result;
  try {
    const destinations = allRows<DestinationRow>(destinationsRead).map(toDestination);
    // The batch's texts, decoded once for all its events.
    const payload = openBatchPayload(firstRow<{ data: StoredPayload }>(payloadRead));
    const open: OpenDelivery[] = [];
    const attempts: AttemptEntry[] = [];
    const deadLetters: Array<{ eventUuid: string; destinationId: string; reason: string; attempts: number }> = [];
    const delivered = new Map<string, DeliveredItem[]>();
    const failures = new Set<string>();
    const toSend: Pending[] = [];

    for (const row of allRows<EventRow>(eventsRead)) {
      if (row.forward === FORWARD.skip) continue;
      result.events++;
      if (!isValidEventId(row.uuid)) {
        deadLetters.push({ eventUuid: row.uuid, destinationId: "", reason: UNFORWARDABLE_REASON, attempts: 0 });
        continue;
      }
      let event: StoredEvent;
      try {
        event = toStoredEvent(row, payload);
      } catch (error) {
        // A payload that cannot be read back can never be sent: an event-level dead letter says so.
        deadLetters.push({ eventUuid: row.uuid, destinationId: "", reason: `the stored payload cannot be read: ${String(error)}`, attempts: 0 });
        continue;
      }
      const routable = routableEvent(event);
      for (const destination of destinations) {
        if (!routesTo(routable, destination)) continue;
        if (destination.state !== "active") {
          open.push({ eventUuid: event.uuid, destinationId: destination.id, state: "waiting", attempts: 0, nextAttemptAt: null, lastStatus: null, lastError: null });
          result.waiting++;
        } else {
          toSend.push({ event, destination });
        }
      }
    }

    const retries: Array<{ uuid: string; destinationId: string; delaySeconds: number }> = [];
    const sendsBy = startingBy(deps.limit, started + (deps.sendBudgetMs ?? FAN_OUT_SEND_BUDGET_MS));
    await Promise.all(
      toSend.map(async ({ event, destination }) => {
        let outcome;
        try {
          outcome = await attemptDelivery(config, destination, event, Date.now(), sendsBy);
        } catch (error) {
          if (!(error instanceof StartedTooLate)) throw error;
          // Not attempted: a pending delivery, sent by its own message (below) like a retry that is due now.
          open.push({ eventUuid: event.uuid, destinationId: destination.id, state: "pending", attempts: 0, nextAttemptAt: Date.now(), lastStatus: null, lastError: null });
          retries.push({ uuid: event.uuid, destinationId: destination.id, delaySeconds: 0 });
          result.deferred++;
          return;
        }
        const attemptedAt = Date.now();
        const decision = decide(outcome, {
          attempt: 1,
          now: attemptedAt,
          baseSeconds: config.forwarding.retryBaseSeconds,
          random: deps.random?.() ?? Math.random(),
        });
        const record = attemptRecord(outcome);
        const key = { eventUuid: event.uuid, destinationId: destination.id };
        if (decision.kind === "delivered") {
          const list = delivered.get(destination.id) ?? [];
          list.push([event.id, record.status ?? 0, record.latencyMs, attemptedAt]);
          delivered.set(destination.id, list);
          result.delivered++;
          return;
        }
        failures.add(destination.id);
        const retrying = decision.kind === "retry";
        const nextAttemptAt = retrying ? attemptedAt + decision.delaySeconds * 1000 : null;
        open.push({ ...key, state: retrying ? "failed" : "dead", attempts: 1, nextAttemptAt, lastStatus: record.status, lastError: record.error });
        attempts.push({ ...key, attempt: 1, attemptedAt, status: record.status, latencyMs: record.latencyMs, outcome: retrying ? "retry" : "dead", error: record.error });
        if (retrying) {
          retries.push({ uuid: event.uuid, destinationId: destination.id, delaySeconds: decision.delaySeconds });
          result.failed++;
          log("warn", "delivery failed; will retry", { ...key, attempt: 1, status: record.status ?? undefined, ms: record.latencyMs, error: record.error ?? undefined, delaySeconds: decision.delaySeconds });
        } else {
          deadLetters.push({ ...key, reason: decision.reason, attempts: 1 });
          result.dead++;
          log("warn", "delivery dead", { ...key, attempt: 1, status: record.status ?? undefined, reason: decision.reason });
        }
      }),
    );

    const now = Date.now();
    const statements: D1PreparedStatement[] = [];
    if (delivered.size > 0) statements.push(insertBatchDeliveriesStatement(env.DB, batchId, delivered, now));
    if (open.length > 0) statements.push(insertOpenDeliveriesStatement(env.DB, open, now));
    if (attempts.length > 0) statements.push(insertAttemptsStatement(env.DB, attempts));
    if (deadLetters.length > 0) statements.push(insertDeadLettersStatement(env.DB, deadLetters, now));
    for (const destinationId of delivered.keys()) statements.push(resetFailuresStatement(env.DB, destinationId));
    // Toward auto-disable, a batch's first attempts to one destination count as ONE failed attempt, and none when
    // some of them went through (the destination is up): they happened at the same moment, so a receiver's
    // few-second blip during a 100-event delivery must not read as 100 consecutive failures.
    const counted = [...failures.keys()].filter((destinationId) => !delivered.has(destinationId));
    const countedFrom = statements.length;
    for (const destinationId of counted) {
      statements.push(countFailureStatement(env.DB, destinationId, disableRuleOf(config), now, 1));
    }
    // The disable alert of a destination these failures disabled commits with them (src/queue/alert-raise.ts).
    const alertsFrom = statements.length;
    for (const destinationId of counted) {
      const raise = destinationDisabledAlertStatement(env.DB, config, destinationId, 1, now);
      if (raise) statements.push(raise);
    }
    const alertsTo = statements.length;
    statements.push(deleteOutboxStatement(env.DB, batchId));
    const written = await env.DB.batch<{ state: string; consecutive_failures: number; updated_at: number }>(statements);
    counted.forEach((destinationId, i) => {
      const after = firstRow<{ state: string; consecutive_failures: number; updated_at: number }>(written[countedFrom + i]);
      // This count disabled it: the statement stamps updated_at with `now` only then.
      if (after?.state === "disabled" && after.updated_at === now) {
        log("error", "destination disabled after consecutive failures", { destinationId, consecutiveFailures: after.consecutive_failures });
      }
    });
    result.outcome = "fanned_out";
    await dispatchRaisedAlerts(env.FORWARD_QUEUE, raisedAlerts(written.slice(alertsFrom, alertsTo)));
    // Recorded: a failure from here on leaves overdue deliveries, which the sweeper enqueues.
    await enqueueDeliveries(env.FORWARD_QUEUE, retries);
    return result;
  } catch (error) {
    if (result.outcome !== "fanned_out") await releaseOutbox(env.DB, batchId).catch(() => undefined);
    throw error;
  }
}
