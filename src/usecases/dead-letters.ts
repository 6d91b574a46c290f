/**
 * Dead letter use cases (docs/forwarding.md "Dead letters"): redrive one (after a fix: the delivery goes back to
 * pending with a fresh retry schedule and its own webhook-id, and is enqueued now), redrive all of a destination (a
 * job, page by page through the queue at a bounded rate: src/queue/replay.ts), or delete one (acknowledged, never
 * redriven). An event-level dead letter — the event never fanned out — is redriven as that fan-out: a first
 * delivery to every destination the event routes to now; one whose event cannot be forwarded stays, with the reason.
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { enqueueDeliveries } from "../queue/enqueue";
import { planRedrive } from "../queue/replay";
import { deleteDeadLetter, getDeadLetter, type DeadLetter } from "../storage/dead-letters";
import type { DeliveryKey } from "../storage/deliveries";
import { getDestination } from "../storage/destinations";
import { insertJob, type ReplayJob } from "../storage/replay-jobs";
import { reopenedKeys } from "../storage/reopen-deliveries";
import { DESTINATION_ID } from "./destination-input";

export interface DeadLetterDeps {
  env: Env;
  config: Config;
  /** Epoch ms. */
  now: number;
}

/** How an event-level dead letter (destination_id '') is named in the API. */
export const FAN_OUT = "fan-out";

/** A dead letter's destination as stored: a destination id, or '' for `fan-out`; null when it is neither. */
export function storedDestinationId(name: string): string | null {
  if (name === FAN_OUT) return "";
  return DESTINATION_ID.test(name) ? name : null;
}

export async function findDeadLetter(db: D1Database, destination: string, eventUuid: string): Promise<DeadLetter> {
  const destinationId = storedDestinationId(destination);
  const letter = destinationId === null || eventUuid.length > 200 ? null : await getDeadLetter(db, { eventUuid, destinationId });
  if (!letter) throw new ApiError("not_found", "No dead letter for this destination and event.");
  return letter;
}

/** Redrive one dead letter now: the deliveries it put back to work. 409 when its event cannot be forwarded. */
export async function redriveDeadLetter(deps: DeadLetterDeps, destination: string, eventUuid: string): Promise<{ redriven: DeliveryKey[] }> {
  const { env, now } = deps;
  const letter = await findDeadLetter(env.DB, destination, eventUuid);
  const plan = await planRedrive(env, [letter], null, now);
  if (plan.kept.length > 0) throw new ApiError("conflict", `The dead letter cannot be redriven: ${plan.kept[0]!.reason}.`);
  const results = plan.statements.length > 0 ? await env.DB.batch(plan.statements) : [];
  const redriven = plan.reopening.flatMap((i) => reopenedKeys(results[i]));
  // Recorded: if this send fails the deliveries are pending, and the outbox sweep enqueues them.
  await enqueueDeliveries(env.FORWARD_QUEUE, redriven.map((k) => ({ uuid: k.eventUuid, destinationId: k.destinationId })));
  return { redriven };
}

/** Redrive every dead letter of a destination (or `fan-out`) recorded until now, as a job. */
export async function redriveAll(deps: DeadLetterDeps, destination: string, ratePerSecond: number): Promise<ReplayJob> {
  const { env, now } = deps;
  const destinationId = storedDestinationId(destination);
  if (destinationId === null || (destinationId !== "" && !(await getDestination(env.DB, destinationId)))) {
    throw new ApiError("invalid_body", `destinationId: no destination with this id (or "${FAN_OUT}" for events that never fanned out)`);
  }
  const job = await insertJob(env.DB, {
    kind: "redrive",
    selection: { deadLetters: true },
    destinationId,
    ratePerSecond,
    rangeLow: null,
    rangeHigh: null,
    now,
  });
  // If this send fails the job is still there: the job sweep sends its first step.
  await env.FORWARD_QUEUE.send({ kind: "replay", jobId: job.id, step: 0 });
  return job;
}

export async function removeDeadLetter(deps: DeadLetterDeps, destination: string, eventUuid: string): Promise<void> {
  const letter = await findDeadLetter(deps.env.DB, destination, eventUuid);
  if (!(await deleteDeadLetter(deps.env.DB, letter))) throw new ApiError("not_found", "No dead letter for this destination and event.");
}
