/**
 * Dead letters (operations API): deliveries that will not be retried on their own — a permanent failure or retries
 * exhausted — and events whose fan-out never happened ("whole event"). Newest first, by destination, in pages.
 * Each can be redriven (back to work now, with its original webhook-id and a fresh retry schedule) or deleted
 * (acknowledged: never redriven); all of one destination's are redriven as a job whose progress is shown. Fix the
 * receiver first: a redrive goes to the same URL.
 */
import { useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { deleteDeadLetter, listDeadLetters, listDestinations, redriveAll, redriveDeadLetter } from "../api/gateway";
import type { DeadLetter, ReplayJob } from "../api/types";
import { ConfirmDialog } from "../components/dialog";
import { EmptyState, Flash, Loading, Problem, Unavailable } from "../components/feedback";
import { Select } from "../components/fields";
import { when } from "../components/format";
import { Page } from "../components/page";
import { ReplayProgress } from "../components/replay-job";
import { useAction } from "../components/use-action";
import { useLoad } from "../components/use-load";
import { href, navigate } from "../router";

/** The dead-letter API's name for letters of whole events (their fan-out never happened). */
const FAN_OUT = "fan-out";

type Pending = { kind: "delete"; letter: DeadLetter } | { kind: "redrive-all" } | null;

export function DeadLetters({ params }: { params: URLSearchParams }) {
  const destination = params.get("destination") ?? "";
  const destinations = useLoad(() => listDestinations(), []);
  const [pages, setPages] = useState<{ letters: DeadLetter[]; next: string | null }>({ letters: [], next: null });
  const first = useLoad(async () => {
    const page = await listDeadLetters(destination || undefined);
    setPages({ letters: page.deadLetters, next: page.nextCursor });
    return page;
  }, [destination]);
  const [more, setMore] = useState(false);
  const { busy, flash, failure, setFailure, act } = useAction(first.reload);
  const [pending, setPending] = useState<Pending>(null);
  const [jobs, setJobs] = useState<ReplayJob[]>([]);

  const nameOf = (id: string) => (id === FAN_OUT ? "Whole event (fan-out)" : (destinations.data?.find((d) => d.id === id)?.name ?? id));
  const loadMore = async () => {
    setMore(true);
    try {
      const page = await listDeadLetters(destination || undefined, pages.next!);
      setPages((p) => ({ letters: [...p.letters, ...page.deadLetters], next: page.nextCursor }));
    } catch (error) {
      setFailure(error);
    } finally {
      setMore(false);
    }
  };
  const confirm = async () => {
    if (pending?.kind === "delete") {
      const l = pending.letter;
      if (await act(() => deleteDeadLetter(l.destinationId, l.eventUuid), `The dead letter of ${l.eventUuid} was deleted.`)) setPending(null);
    } else if (pending?.kind === "redrive-all") {
      let job: ReplayJob | undefined;
      if (await act(async () => (job = await redriveAll(destination)), `Redriving every dead letter of ${nameOf(destination)}.`)) {
        setJobs((j) => [job!, ...j]);
        setPending(null);
      }
    }
  };

  if (isMissingEndpoint(first.error)) {
    return (
      <Page title="Dead letters">
        <Unavailable feature="dead letters" endpoint="GET /admin/api/dead-letters" />
      </Page>
    );
  }
  const letters = pages.letters;
  return (
    <Page
      title="Dead letters"
      actions={
        destination ? (
          <button type="button" disabled={busy || letters.length === 0} onClick={() => setPending({ kind: "redrive-all" })}>
            Redrive all…
          </button>
        ) : undefined
      }
    >
      <p class="lead">
        Deliveries that will not be retried on their own: the receiver refused them for good, or they failed for two days. Fix the receiver, then redrive them;
        delete one to acknowledge it.
      </p>
      <Select
        id="dead-letter-destination"
        label="Destination"
        value={destination}
        onChange={(id) => navigate(`${href("dead-letters")}${id ? `?destination=${encodeURIComponent(id)}` : ""}`)}
        options={[["", "All destinations"], ...(destinations.data ?? []).map((d) => [d.id, d.name] as const), [FAN_OUT, "Whole events (fan-out never happened)"]]}
      />
      <Flash message={flash} />
      {failure ? <Problem error={failure} /> : null}
      {jobs.map((job) => (
        <ReplayProgress key={job.id} job={job} onProgress={first.reload} />
      ))}
      {first.loading && !first.data ? <Loading what="dead letters" /> : null}
      {first.error ? <Problem error={first.error} retry={first.reload} /> : null}
      {first.data && letters.length === 0 ? (
        <EmptyState title="No dead letters">
          <p>Every delivery{destination ? ` to ${nameOf(destination)}` : ""} was delivered or is still being retried.</p>
        </EmptyState>
      ) : null}
      {letters.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption>Dead letters, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Recorded</th>
                <th scope="col">Event</th>
                <th scope="col">Destination</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {letters.map((l) => (
                <tr key={`${l.destinationId}/${l.eventUuid}`} data-event-uuid={l.eventUuid}>
                  <td>{when(l.recordedAt)}</td>
                  <td>
                    <a href={href("events", l.eventUuid)}>{l.eventType ?? l.eventUuid}</a>
                  </td>
                  <td>{l.destinationName ?? nameOf(l.destinationId)}</td>
                  <td>{l.reason}</td>
                  <td>{l.attempts}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="secondary small"
                      disabled={busy}
                      aria-label={`Redrive ${l.eventType ?? l.eventUuid} to ${nameOf(l.destinationId)}`}
                      onClick={() => act(() => redriveDeadLetter(l.destinationId, l.eventUuid), `${l.eventType ?? l.eventUuid} is being delivered again.`)}
                    >
                      Redrive
                    </button>
                    <button
                      type="button"
                      class="danger small"
                      disabled={busy}
                      aria-label={`Delete the dead letter of ${l.eventType ?? l.eventUuid}`}
                      onClick={() => setPending({ kind: "delete", letter: l })}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {pages.next ? (
        <button type="button" class="secondary" disabled={more} onClick={loadMore}>
          {more ? "Loading…" : "Load more"}
        </button>
      ) : null}
      <ConfirmDialog
        open={pending?.kind === "delete"}
        title="Delete this dead letter?"
        confirmLabel="Delete dead letter"
        danger
        busy={busy}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        <p>The delivery stays dead and is never redriven; the event itself stays stored.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === "redrive-all"}
        title={`Redrive every dead letter of ${nameOf(destination)}?`}
        confirmLabel="Redrive all"
        busy={busy}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        <p>Every dead letter recorded until now goes back to work, 10 a second, each with a fresh retry schedule. Make sure the receiver accepts them first.</p>
      </ConfirmDialog>
    </Page>
  );
}
