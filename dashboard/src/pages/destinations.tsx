/**
 * Destinations: each with its state and health, and the actions the admin API offers — pause/resume (or re-enable
 * a disabled one), send a test event (its outcome shown on the card), its dead letters, rotate the signing secret
 * (the new one shown once), delete with confirmation. Health comes from the destination itself (consecutive
 * failures, why it was disabled, its last failure still standing) and, when the gateway has the operations API's
 * delivery stats, from the last 24 hours of deliveries.
 */
import { useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { deleteDestination, getDeliveryStats, listDestinations, rotateDestinationSecret, sendTestEvent, updateDestination } from "../api/gateway";
import type { DeliveryStats, Destination, TestEventResult } from "../api/types";
import { ConfirmDialog } from "../components/dialog";
import { EmptyState, Flash, Loading, Problem } from "../components/feedback";
import { TextField } from "../components/fields";
import { count, percent, when } from "../components/format";
import { Page } from "../components/page";
import { OneTimeSecret } from "../components/secret";
import { useAction } from "../components/use-action";
import { useLoad } from "../components/use-load";
import { href } from "../router";

type Health = DeliveryStats["destinations"][number];

interface Loaded {
  destinations: Destination[];
  /** Per destination id; null when the gateway has no delivery stats. */
  health: Map<string, Health> | null;
}

async function load(): Promise<Loaded> {
  const [destinations, stats] = await Promise.all([
    listDestinations(),
    getDeliveryStats().catch((error: unknown) => {
      if (isMissingEndpoint(error)) return null;
      throw error;
    }),
  ]);
  return { destinations, health: stats ? new Map(stats.destinations.map((d) => [d.destinationId, d])) : null };
}

export function StateBadge({ state }: { state: Destination["state"] }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}

/** "HTTP 503, 5 min ago, retrying" — a destination's last failure still standing. */
export function lastFailureText(f: NonNullable<Destination["lastFailure"]>): string {
  return `${f.error ?? (f.status === null ? "no response" : `HTTP ${f.status}`)} · ${when(f.at)} · ${f.delivery === "dead" ? "dead letter" : "retrying"}`;
}

function TestEvent({ d }: { d: Destination }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestEventResult | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const send = async () => {
    setBusy(true);
    setFailure(null);
    try {
      setResult(await sendTestEvent(d.id));
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };
  const ok = result?.outcome === "delivered";
  return (
    <>
      <button type="button" class="secondary" disabled={busy} onClick={send}>
        {busy ? "Sending…" : "Send test event"}
      </button>
      <div class="test-result" role="status" aria-live="polite">
        {result ? (
          <p class={ok ? "ok" : "bad"}>
            Test event {ok ? "delivered" : "not delivered"}: {result.status === null ? "no response" : `HTTP ${result.status}`} in {result.latencyMs} ms
            {result.error ? ` — ${result.error}` : ""}
            {ok ? "" : result.outcome === "dead" ? " (forwarding would not retry this)" : " (forwarding would retry this)"}. <span class="hint">webhook-id {result.webhookId}</span>
          </p>
        ) : null}
        {failure ? <Problem error={failure} /> : null}
      </div>
    </>
  );
}

function HealthFacts({ d, health }: { d: Destination; health: Health | undefined | null }) {
  return (
    <dl class="facts">
      <div>
        <dt>Consecutive failures</dt>
        <dd>{count(d.consecutiveFailures)}</dd>
      </div>
      {d.disabledReason ? (
        <div>
          <dt>Disabled because</dt>
          <dd>{d.disabledReason}</dd>
        </div>
      ) : null}
      <div>
        <dt>Last failure</dt>
        <dd>{d.lastFailure ? lastFailureText(d.lastFailure) : "none standing"}</dd>
      </div>
      {health ? (
        <>
          <div>
            <dt>Delivered (24 h)</dt>
            <dd>{count(health.delivered)}</dd>
          </div>
          <div>
            <dt>Success rate</dt>
            <dd>{percent(health.successRate)}</dd>
          </div>
          <div>
            <dt>Retrying · queued · dead (24 h)</dt>
            <dd>
              {count(health.retrying)} · {count(health.waiting)} · {count(health.dead)}
            </dd>
          </div>
          {health.latencyMs ? (
            <div>
              <dt>Latency p50 / p95</dt>
              <dd>
                {health.latencyMs.p50} / {health.latencyMs.p95} ms
              </dd>
            </div>
          ) : null}
        </>
      ) : null}
      {d.previousSecretExpiresAt ? (
        <div>
          <dt>Previous secret valid until</dt>
          <dd>{when(d.previousSecretExpiresAt)}</dd>
        </div>
      ) : null}
    </dl>
  );
}

type Pending = { kind: "delete" | "rotate"; destination: Destination } | null;

export function Destinations() {
  const loaded = useLoad(load, []);
  const { busy, flash, failure, act } = useAction(loaded.reload);
  const [pending, setPending] = useState<Pending>(null);
  const [graceHours, setGraceHours] = useState("24");
  const [graceError, setGraceError] = useState<string | undefined>();
  const [rotated, setRotated] = useState<{ name: string; secret: string; previousSecretExpiresAt: string | null } | null>(null);


  const setState = (d: Destination, state: "active" | "paused") =>
    act(() => updateDestination(d.id, { state }), state === "paused" ? `${d.name} is paused: its events wait until you resume it.` : `${d.name} is active again.`);

  const confirm = async () => {
    if (!pending) return;
    const d = pending.destination;
    if (pending.kind === "delete") {
      if (await act(() => deleteDestination(d.id), `${d.name} was deleted.`)) setPending(null);
      return;
    }
    const hours = Number(graceHours);
    if (!Number.isFinite(hours) || hours < 0 || hours > 168) {
      setGraceError("Enter a number of hours from 0 to 168 (7 days).");
      return;
    }
    setGraceError(undefined);
    let result: Awaited<ReturnType<typeof rotateDestinationSecret>> | undefined;
    if (await act(async () => (result = await rotateDestinationSecret(d.id, Math.round(hours * 3600))), `${d.name} has a new signing secret.`)) {
      setRotated({ name: d.name, secret: result!.secret, previousSecretExpiresAt: result!.previousSecretExpiresAt });
      setPending(null);
    }
  };

  return (
    <Page
      title="Destinations"
      actions={
        <a class="button" href={href("destinations", "new")}>
          New destination
        </a>
      }
    >
      <p class="lead">Where the gateway forwards the events Okta sends: each destination gets the events its filter matches, signed, retried for about two days.</p>
      <Flash message={flash} />
      {failure ? <Problem error={failure} /> : null}
      {rotated ? (
        <OneTimeSecret secret={rotated.secret} title={`New signing secret of ${rotated.name}`}>
          <p>
            {rotated.previousSecretExpiresAt
              ? `Until ${when(rotated.previousSecretExpiresAt)} deliveries are signed with both secrets, so the receiver can switch over.`
              : "The previous secret no longer signs deliveries."}
          </p>
          <button type="button" class="secondary" onClick={() => setRotated(null)}>
            Done, I copied it
          </button>
        </OneTimeSecret>
      ) : null}
      {loaded.loading && !loaded.data ? <Loading what="destinations" /> : null}
      {loaded.error ? <Problem error={loaded.error} retry={loaded.reload} /> : null}
      {loaded.data && loaded.data.destinations.length === 0 ? (
        <EmptyState title="No destinations yet">
          <p>Events Okta sends are stored, but go nowhere else until a destination wants them.</p>
          <p>
            <a class="button" href={href("destinations", "new")}>
              Create a destination
            </a>{" "}
            with the URL of the system that should receive them (https), and which event types it wants.
          </p>
        </EmptyState>
      ) : null}
      {loaded.data && loaded.data.destinations.length > 0 ? (
        <ul class="cards" aria-label="Destinations">
          {loaded.data.destinations.map((d) => (
            <li key={d.id} class="card destination" data-destination-id={d.id}>
              <div class="card-head">
                <h2>
                  <a href={href("destinations", d.id)}>{d.name}</a>
                </h2>
                <StateBadge state={d.state} />
              </div>
              <p class="url">
                <code>{d.url}</code>
              </p>
              <p class="hint">
                {d.format === "okta" ? "Okta's envelope" : "Standard Webhooks"} · event types {d.eventTypes.join(", ")}
              </p>
              <HealthFacts d={d} health={loaded.data!.health?.get(d.id) ?? (loaded.data!.health ? undefined : null)} />
              <div class="actions">
                <a class="button secondary" href={href("destinations", d.id)}>
                  Edit
                </a>
                {d.state === "active" ? (
                  <button type="button" class="secondary" disabled={busy} onClick={() => setState(d, "paused")}>
                    Pause
                  </button>
                ) : (
                  <button type="button" class="secondary" disabled={busy} onClick={() => setState(d, "active")}>
                    {d.state === "disabled" ? "Re-enable" : "Resume"}
                  </button>
                )}
                <TestEvent d={d} />
                <a class="button secondary" href={`${href("dead-letters")}?destination=${encodeURIComponent(d.id)}`}>
                  Dead letters
                </a>
                <button type="button" class="secondary" disabled={busy} onClick={() => setPending({ kind: "rotate", destination: d })}>
                  Rotate secret
                </button>
                <button type="button" class="danger" disabled={busy} onClick={() => setPending({ kind: "delete", destination: d })}>
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      <ConfirmDialog
        open={pending?.kind === "delete"}
        title={`Delete ${pending?.destination.name ?? ""}?`}
        confirmLabel="Delete destination"
        danger
        busy={busy}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        <p>It stops receiving events at once, and what waits for it is dropped. Stored events stay. This cannot be undone.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === "rotate"}
        title={`Rotate the signing secret of ${pending?.destination.name ?? ""}?`}
        confirmLabel="Rotate secret"
        busy={busy}
        onConfirm={confirm}
        onCancel={() => {
          setPending(null);
          setGraceError(undefined);
        }}
      >
        <p>A new secret signs every delivery from now on; it is shown once.</p>
        <TextField
          id="grace-hours"
          label="Keep the previous secret valid for (hours)"
          inputMode="numeric"
          value={graceHours}
          onInput={setGraceHours}
          error={graceError}
          hint="Deliveries carry both signatures meanwhile, so the receiver can switch without rejecting any. 0 to 168."
        />
      </ConfirmDialog>
    </Page>
  );
}
