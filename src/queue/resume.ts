/**
 * Resuming waiting deliveries (docs/forwarding.md: "paused destinations keep their deliveries waiting and catch up on
 * resume"). A step moves one page of waiting deliveries of active destinations back to pending and enqueues them;
 * a full page sends a {kind:"resume"} message so the next page follows at queue speed, however large the backlog.
 * Started by the PATCH that resumes a destination and by every sweep (which also catches deliveries that went to
 * `waiting` in a race with a resume). Nothing is lost on failure: rows already pending are due now, and the
 * sweeper enqueues overdue ones.
 */
import type { Env } from "../env";
import { resumeWaitingDeliveries } from "../storage/deliveries";
import { enqueueDeliveries } from "./enqueue";

/** Deliveries resumed and enqueued per step. */
export const RESUME_PAGE = 500;

export interface ResumeStep {
  resumed: number;
  /** A full page: a resume message was sent for the next one. */
  more: boolean;
}

export async function resumeStep(env: Env, destinationId: string | null, now: number): Promise<ResumeStep> {
  const keys = await resumeWaitingDeliveries(env.DB, now, RESUME_PAGE, destinationId);
  await enqueueDeliveries(env.FORWARD_QUEUE, keys.map((k) => ({ uuid: k.eventUuid, destinationId: k.destinationId })));
  const more = keys.length === RESUME_PAGE;
  if (more) await env.FORWARD_QUEUE.send({ kind: "resume", destinationId });
  return { resumed: keys.length, more };
}
