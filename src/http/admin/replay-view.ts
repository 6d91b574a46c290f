/** The admin API's view of a replay or redrive job: camelCase, ISO times, its selection as it was asked for. */
import type { EventFilter } from "../../storage/event-search";
import type { ReplayJob } from "../../storage/replay-jobs";
import { FAN_OUT } from "../../usecases/dead-letters";
import { publicJobId } from "./event-view";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A stored filter in the shape the API accepts it (src/http/admin/events-input.ts). */
function filterView(f: EventFilter) {
  return {
    type: f.type ?? null,
    since: iso(f.time?.since ?? null),
    until: iso(f.time?.until ?? null),
    timeField: f.time?.field ?? null,
    actor: f.actor ?? null,
    outcome: f.outcome ?? null,
    org: f.org ?? null,
  };
}

/** How far the job's scan has got, 0 to 1 (a redrive does not know how many letters are left: null). */
function scanned(job: ReplayJob): number | null {
  if (job.state === "finished") return 1;
  if (job.kind !== "replay" || !("filter" in job.selection)) return job.step > 0 ? 1 : 0;
  if (job.rangeLow === null || job.rangeHigh === null || job.rangeHigh <= job.rangeLow) return 0;
  if (typeof job.cursor !== "number") return job.step > 0 ? 1 : 0;
  return Math.round(((job.rangeHigh - job.cursor) / (job.rangeHigh - job.rangeLow)) * 1000) / 1000;
}

export function replayJobView(job: ReplayJob) {
  const selection = job.selection;
  return {
    id: publicJobId(job.id),
    kind: job.kind,
    state: job.state,
    eventUuid: "eventUuid" in selection ? selection.eventUuid : null,
    filter: "filter" in selection ? filterView(selection.filter) : null,
    destinationId: job.destinationId === "" ? FAN_OUT : job.destinationId,
    ratePerSecond: job.ratePerSecond,
    progress: {
      matched: job.matched,
      enqueued: job.enqueued,
      skipped: job.skipped,
      delivered: job.delivered,
      failed: job.failed,
      scanned: job.kind === "redrive" && job.state !== "finished" ? null : scanned(job),
    },
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    finishedAt: iso(job.finishedAt),
  };
}
