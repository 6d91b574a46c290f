/**
 * One event: its facts and Okta's payload pretty-printed (operations API), and where it went — each destination's
 * delivery with every attempt (status, latency, error, and the replay or redrive job it belonged to). On a gateway
 * without the event detail, the deliveries come from GET /admin/api/events/{uuid}/deliveries. Replay (operations
 * API) sends it again to one destination or to every destination whose filter matches now, after a confirmation;
 * the job is followed until its deliveries end, and the deliveries are read again as it goes, so the new attempt
 * appears here when it is made.
 */
import { useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { getEvent, getEventDeliveries, listDestinations, startReplay } from "../api/gateway";
import type { Delivery, Destination, EventDetail, ReplayJob } from "../api/types";
import { ConfirmDialog } from "../components/dialog";
import { Loading, Problem, Unavailable } from "../components/feedback";
import { Select } from "../components/fields";
import { when } from "../components/format";
import { Page } from "../components/page";
import { ReplayProgress } from "../components/replay-job";
import { useLoad } from "../components/use-load";
import { href } from "../router";

type Loaded = { detail: EventDetail; partial: false } | { detail: Pick<EventDetail, "uuid" | "eventType" | "forwardState" | "deliveries">; partial: true };

async function load(uuid: string): Promise<Loaded> {
  try {
    return { detail: await getEvent(uuid), partial: false };
  } catch (error) {
    if (!isMissingEndpoint(error)) throw error;
    // Either no event detail on this gateway, or no such event: the deliveries route tells which (404 again).
    const d = await getEventDeliveries(uuid);
    return { detail: { uuid: d.eventUuid, eventType: d.eventType, forwardState: d.forwardState, deliveries: d.deliveries }, partial: true };
  }
}

function Deliveries({ deliveries }: { deliveries: Delivery[] }) {
  if (deliveries.length === 0) return <p>No destination has received this event: none wanted it when it arrived, or it has not fanned out yet.</p>;
  return (
    <ul class="cards">
      {deliveries.map((d) => (
        <li key={d.destinationId} class="card">
          <div class="card-head">
            <h3>{d.destinationName ?? d.destinationId}</h3>
            <span class={`badge delivery-${d.state}`}>{d.state}</span>
          </div>
          <p class="hint">
            {d.attemptLog.length} attempt{d.attemptLog.length === 1 ? "" : "s"}
            {d.deliveredAt ? ` · delivered ${when(d.deliveredAt)}` : ""}
            {d.nextAttemptAt ? ` · next attempt ${when(d.nextAttemptAt)}` : ""}
          </p>
          {/* Focusable: on a phone the table scrolls sideways, and its rows hold nothing else to reach it by keyboard. */}
          <div class="table-wrap" tabIndex={0} role="region" aria-label={`Attempts to ${d.destinationName ?? d.destinationId}, scrollable`}>
            <table>
              <caption>Attempts to {d.destinationName ?? d.destinationId}</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">When</th>
                  <th scope="col">Status</th>
                  <th scope="col">Latency</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Error</th>
                  <th scope="col">Run</th>
                </tr>
              </thead>
              <tbody>
                {d.attemptLog.map((a, i) => (
                  <tr key={i}>
                    <td>{a.attempt}</td>
                    <td>{when(a.attemptedAt)}</td>
                    <td>{a.status ?? "—"}</td>
                    <td>{a.latencyMs} ms</td>
                    <td>{a.outcome}</td>
                    <td>{a.error ?? ""}</td>
                    <td>{a.jobId ?? "first delivery"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </li>
      ))}
    </ul>
  );
}

function Replay({ uuid, onStarted }: { uuid: string; onStarted: (job: ReplayJob) => void }) {
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const destinations = useLoad<Destination[]>(() => (open ? listDestinations() : Promise.resolve([])), [open]);

  const confirm = async () => {
    setBusy(true);
    setFailure(null);
    try {
      onStarted(await startReplay(uuid, target || undefined));
      setOpen(false);
    } catch (error) {
      setFailure(error);
      setOpen(false);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Replay…
      </button>
      {failure ? isMissingEndpoint(failure) ? <Unavailable feature="replay" endpoint="POST /admin/api/replays" /> : <Problem error={failure} /> : null}
      <ConfirmDialog open={open} title="Replay this event?" confirmLabel="Replay" busy={busy} onConfirm={confirm} onCancel={() => setOpen(false)}>
        <p>It is sent again with a new webhook-id, and a header naming the original delivery, so the receiver can tell a replay from a first delivery.</p>
        <Select
          id="replay-target"
          label="Send to"
          value={target}
          onChange={setTarget}
          options={[["", "Every destination whose filter matches now"], ...(destinations.data ?? []).map((d) => [d.id, d.name] as const)]}
        />
      </ConfirmDialog>
    </>
  );
}

export function EventDetailPage({ uuid }: { uuid: string }) {
  const loaded = useLoad(() => load(uuid), [uuid]);
  const [jobs, setJobs] = useState<ReplayJob[]>([]);
  const data = loaded.data;
  return (
    <Page title={data ? data.detail.eventType : "Event"} actions={data && !data.partial ? <Replay uuid={uuid} onStarted={(job) => setJobs((j) => [job, ...j])} /> : undefined}>
      <p>
        <a href={href("events")}>← Events</a>
      </p>
      {jobs.map((job) => (
        <ReplayProgress key={job.id} job={job} onProgress={loaded.reload} />
      ))}
      {loaded.loading && !data ? <Loading what="the event" /> : null}
      {loaded.error ? isMissingEndpoint(loaded.error) ? <Problem error={new Error(`No stored event has the uuid ${uuid}.`)} /> : <Problem error={loaded.error} retry={loaded.reload} /> : null}
      {data ? (
        <>
          <dl class="facts">
            <div>
              <dt>uuid</dt>
              <dd>
                <code>{data.detail.uuid}</code>
              </dd>
            </div>
            <div>
              <dt>Forwarding</dt>
              <dd>{data.detail.forwardState.replace("_", " ")}</dd>
            </div>
            {!data.partial ? (
              <>
                <div>
                  <dt>Published</dt>
                  <dd>{when(data.detail.published)}</dd>
                </div>
                <div>
                  <dt>Received</dt>
                  <dd>{when(data.detail.receivedAt)}</dd>
                </div>
                <div>
                  <dt>Actor</dt>
                  <dd>{data.detail.actorAlternateId ?? data.detail.actorId ?? "—"}</dd>
                </div>
                <div>
                  <dt>Outcome</dt>
                  <dd>{data.detail.outcomeResult ?? "—"}</dd>
                </div>
              </>
            ) : null}
          </dl>
          <section aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">Deliveries</h2>
            <Deliveries deliveries={data.detail.deliveries} />
          </section>
          <section aria-labelledby="payload-title">
            <h2 id="payload-title">Payload</h2>
            {data.partial ? (
              <Unavailable feature="the event's payload and replay" endpoint="GET /admin/api/events/{uuid}" />
            ) : (
              <pre class="payload" tabIndex={0} aria-label="Okta's event, pretty-printed">
                {JSON.stringify(data.detail.payload, null, 2)}
              </pre>
            )}
          </section>
        </>
      ) : null}
    </Page>
  );
}
