/**
 * Following a replay or redrive job (GET /admin/api/replays/{id}) until it is done: the job has stopped selecting
 * (finished or cancelled) and every delivery it handed to forwarding has an outcome (delivered + failed ≥
 * enqueued). Progress goes to stderr — a bar (cli-progress) on a terminal, a line per change otherwise — so stdout
 * keeps only the result. Bounded: it polls every `intervalMs` and gives up after `timeoutMs`, and Ctrl-C (the
 * signal) stops following at once; the job itself goes on either way.
 */
import cliProgress from "cli-progress";
import type { ReplayJob } from "./api-types.ts";
import type { ApiClient } from "./client.ts";
import { jobLine } from "./views.ts";

export type FollowOutcome = "done" | "timeout" | "interrupted";

export function isDone(job: ReplayJob): boolean {
  return job.state !== "running" && job.progress.delivered + job.progress.failed >= job.progress.enqueued;
}

/** What the follower reports to: a bar, or lines. */
export interface ProgressSink {
  update(job: ReplayJob): void;
  stop(): void;
}

export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
}

/** Settled pairs: delivered, failed, or skipped because already in progress. */
const settled = (job: ReplayJob) => job.progress.delivered + job.progress.failed + job.progress.skipped;

export function progressSink(stream: ProgressStream): ProgressSink {
  if (!stream.isTTY) {
    let last = "";
    return {
      update(job) {
        const line = jobLine(job);
        if (line !== last) stream.write(`${line}\n`);
        last = line;
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as unknown as NodeJS.WritableStream,
      format: "{id} {bar} {value}/{total} settled | enqueued {enqueued} · delivered {delivered} · failed {failed} · skipped {skipped} | {state}",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(job) {
      const payload = { id: job.id, state: job.state, ...job.progress };
      const total = Math.max(job.progress.matched, 1);
      if (!started) {
        bar.start(total, settled(job), payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(settled(job), payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export interface FollowOptions {
  sink: ProgressSink;
  signal: AbortSignal;
  intervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** Sleep `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

export async function followJob(api: ApiClient, first: ReplayJob, options: FollowOptions): Promise<{ job: ReplayJob; outcome: FollowOutcome }> {
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const now = options.now ?? Date.now;
  const deadline = now() + timeoutMs;
  const maxPolls = Math.ceil(timeoutMs / Math.max(intervalMs, 1)) + 1;
  let job = first;
  try {
    options.sink.update(job);
    for (let poll = 0; poll < maxPolls; poll++) {
      if (isDone(job)) return { job, outcome: "done" };
      if (options.signal.aborted) return { job, outcome: "interrupted" };
      if (now() >= deadline) return { job, outcome: "timeout" };
      await pause(intervalMs, options.signal);
      if (options.signal.aborted) return { job, outcome: "interrupted" };
      job = await api.call<ReplayJob>("GET", `/replays/${encodeURIComponent(job.id)}`);
      options.sink.update(job);
    }
    return { job, outcome: isDone(job) ? "done" : "timeout" };
  } finally {
    options.sink.stop();
  }
}
