/** The admin API's view of a stored event in a list or a detail: camelCase, ISO times, no payload. */
import type { EventSummary } from "../../storage/event-search";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function eventSummaryView(e: EventSummary) {
  return {
    uuid: e.uuid,
    eventType: e.eventType,
    published: iso(e.published),
    receivedAt: iso(e.receivedAt),
    actorId: e.actorId,
    actorAlternateId: e.actorAlternateId,
    outcomeResult: e.outcomeResult,
    severity: e.severity,
    oktaOrg: e.oktaOrg,
    forwardState: e.forwardState,
  };
}

/** The public id of a replay or redrive job (replay_jobs.id). */
export function publicJobId(id: number): string {
  return `job_${id}`;
}

/** replay_jobs.id from a public id, or null when it is not one. */
export function parseJobId(text: string): number | null {
  const match = /^job_([1-9]\d{0,15})$/.exec(text);
  return match ? Number(match[1]) : null;
}
