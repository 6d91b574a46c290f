/**
 * A replay or redrive job followed to its end (GET /admin/api/replays/{id} every 2 s, at most 5 minutes): its
 * counters as they move, a Cancel button while it runs, and `onProgress` after each poll so the page can show
 * what it changed (an event's new attempts, a shorter dead-letter list). A job is "finished" once everything it
 * selected was handed to forwarding; it is followed until those deliveries have ended too.
 */
import { useEffect, useState } from "preact/hooks";
import { cancelReplay, getReplay } from "../api/gateway";
import type { ReplayJob } from "../api/types";
import { Problem } from "./feedback";
import { count } from "./format";

const POLL_MS = 2_000;
const MAX_POLLS = 150;

/** Whether nothing more will change: cancelled, or finished with every handed-over delivery ended. */
export function settled(job: ReplayJob): boolean {
  if (job.state === "cancelled") return true;
  const p = job.progress;
  return job.state === "finished" && p.delivered + p.failed >= p.enqueued;
}

export function ReplayProgress({ job: started, onProgress }: { job: ReplayJob; onProgress?: (job: ReplayJob) => void }) {
  const [job, setJob] = useState(started);
  const [failure, setFailure] = useState<unknown>(null);
  const [stopped, setStopped] = useState(false);
  useEffect(() => {
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const poll = async () => {
      try {
        const next = await getReplay(started.id);
        if (!live) return;
        setJob(next);
        onProgress?.(next);
        if (settled(next) || ++polls >= MAX_POLLS) return setStopped(true);
      } catch (error) {
        if (live) setFailure(error);
        return;
      }
      timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [started.id]);

  const p = job.progress;
  const what = job.kind === "redrive" ? "Redrive" : "Replay";
  return (
    <div class="notice job" role="status" aria-live="polite" data-job-id={job.id}>
      <p>
        <strong>
          {what} {job.id}: {job.state}
        </strong>
        {" — "}
        {count(p.matched)} selected, {count(p.enqueued)} handed to forwarding, {count(p.skipped)} skipped (still in progress), {count(p.delivered)} delivered,{" "}
        {count(p.failed)} dead{p.scanned !== null && job.state === "running" ? `, ${Math.round(p.scanned * 100)} % scanned` : ""}.
      </p>
      {stopped && !settled(job) ? <p class="hint">Stopped following it here; it goes on in the gateway.</p> : null}
      {job.state === "running" ? (
        <button
          type="button"
          class="secondary small"
          onClick={() =>
            cancelReplay(job.id).then((j) => {
              setJob(j);
              onProgress?.(j);
            }, setFailure)
          }
        >
          Cancel {what.toLowerCase()}
        </button>
      ) : null}
      {failure ? <Problem error={failure} /> : null}
    </div>
  );
}
