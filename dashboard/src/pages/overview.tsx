/**
 * Overview: the gateway's health (GET /healthz with the token: status, problems, the forwarding backlog, dead
 * letters of the last hour, disabled destinations and recent alerts where the gateway reports them), events per hour for 24 hours or 7 days by type
 * group, failed sign-ins and security events of the last 24 hours (the event search's outcome filter and type
 * prefix: counted over a few pages, "+" when more may match, the newest listed), destination health tiles (state,
 * success rate, last failure, queued, dead), D1's size against its cap, the inline hook rules, and per inline hook
 * type the last 24 hours' calls, decisions and p95 latency (GET /admin/api/stats/inline). Parts that need the
 * operations API say so when the gateway lacks it.
 */
import { useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { getDeliveryStats, getEventStats, getHealth, getInlineStats, getStats, listDestinations, listRules, searchEvents } from "../api/gateway";
import type { EventSearch, EventSummary, InlineTypeStats } from "../api/types";
import { EventsChart } from "../components/chart";
import { LoadFailure, Loading, Problem, Unavailable } from "../components/feedback";
import { bytes, count, percent, when } from "../components/format";
import { Page } from "../components/page";
import { useLoad } from "../components/use-load";
import { href } from "../router";
import { ConnectOkta } from "./connect-okta";
import { lastFailureText, StateBadge } from "./destinations";
import { TYPE_LABELS } from "./inline-hooks";

const HOUR = 3_600_000;
const minutes = (seconds: number) => (seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`);
const orNull = <T,>(p: Promise<T>) => p.catch((e: unknown) => (isMissingEndpoint(e) ? null : Promise.reject(e)));

function HealthCard() {
  const health = useLoad(() => getHealth(), []);
  if (health.loading && !health.data) return <Loading what="the gateway's health" />;
  if (health.error) return <Problem error={health.error} retry={health.reload} />;
  const h = health.data!;
  return (
    <section class="card" aria-labelledby="health-title">
      <div class="card-head">
        <h2 id="health-title">Gateway</h2>
        <span class={`badge health-${h.status}`}>{h.status}</span>
      </div>
      <dl class="facts">
        <div>
          <dt>Version</dt>
          <dd>{h.version}</dd>
        </div>
        <div>
          <dt>D1 round trip</dt>
          <dd>{h.d1.reachable ? `${h.d1.ms} ms` : "unreachable"}</dd>
        </div>
      </dl>
      {h.problems.length > 0 ? (
        <div class="notice warning">
          <p>Configuration problems (the gateway uses the default meanwhile):</p>
          <ul>
            {h.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {h.backlog ? (
        <dl class="facts">
          <div>
            <dt>Waiting to fan out</dt>
            <dd>
              {count(h.backlog.outbox.batches)} deliveries{h.backlog.outbox.oldestAgeSeconds ? `, oldest ${minutes(h.backlog.outbox.oldestAgeSeconds)}` : ""}
            </dd>
          </div>
          <div>
            <dt>Retrying · overdue · queued</dt>
            <dd>
              {count(h.backlog.deliveries.retrying)} · {count(h.backlog.deliveries.overdue)} · {count(h.backlog.deliveries.waiting)}
            </dd>
          </div>
          <div>
            <dt>Dead letters (last hour)</dt>
            <dd>
              <a href={href("dead-letters")}>{count(h.deadLetters?.lastHour ?? 0)}</a>
            </dd>
          </div>
          <div>
            <dt>Alerts to</dt>
            <dd>{h.alerts?.destination ? `${h.alerts.destination.name} (${h.alerts.destination.state})` : "off (ALERT_DESTINATION_ID)"}</dd>
          </div>
        </dl>
      ) : null}
      {h.alerts && h.alerts.recent.length > 0 ? (
        <details>
          <summary>Recent alerts ({h.alerts.recent.length})</summary>
          <ul class="recent">
            {h.alerts.recent.map((a) => (
              <li key={a.id}>
                <code>{a.kind}</code> {when(a.raisedAt)}: {a.state}
                {a.lastError ? ` (${a.lastError})` : ""}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {h.disabledDestinations.length > 0 ? (
        <div class="notice warning">
          <p>Disabled destinations (their events wait):</p>
          <ul>
            {h.disabledDestinations.map((d) => (
              <li key={d.id}>
                <a href={href("destinations")}>{d.name}</a>
                {d.disabledReason ? `: ${d.disabledReason}` : ""}
                {d.disabledAt ? ` (since ${when(d.disabledAt)})` : ""}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/** Pages of 200 a highlight reads at most: past 1,000 matches it says "1,000+". */
const HIGHLIGHT_PAGES = 5;

/** Events matching `search`, up to HIGHLIGHT_PAGES pages; `more` when the search could go on. */
async function countMatching(search: EventSearch): Promise<{ events: EventSummary[]; more: boolean }> {
  const events: EventSummary[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < HIGHLIGHT_PAGES; i++) {
    const page = await searchEvents(search, cursor, 200);
    events.push(...page.events);
    if (page.nextCursor === null) return { events, more: false };
    cursor = page.nextCursor;
  }
  return { events, more: true };
}

/** "12" or "1,000+" events matching a search in the last 24 hours, the newest three, linking to the Events page. */
function Highlight({ label, search }: { label: string; search: EventSearch }) {
  const since = new Date(Math.floor(Date.now() / HOUR) * HOUR - 23 * HOUR).toISOString();
  // By arrival, as the chart counts: the last 24 hours of what reached the gateway.
  const found = useLoad(() => countMatching({ ...search, since, timeField: "received" }), []);
  if (found.error) return isMissingEndpoint(found.error) ? null : <Problem error={found.error} retry={found.reload} />;
  const n = found.data?.events.length;
  const params = new URLSearchParams({ ...(search as Record<string, string>), since, timeField: "received" });
  return (
    <div class={`tile${n ? " alert" : ""}`}>
      <a class="tile-value" href={`${href("events")}?${params}`} aria-label={`${label}: ${n === undefined ? "counting" : `${count(n)}${found.data!.more ? " or more" : ""}`}, last 24 hours`}>
        {n === undefined ? "…" : `${count(n)}${found.data!.more ? "+" : ""}`}
      </a>
      <span class="tile-label">{label} (24 h)</span>
      {n ? (
        <ul class="recent">
          {found.data!.events.slice(0, 3).map((e) => (
            <li key={e.uuid}>
              <a href={href("events", e.uuid)}>{e.actorAlternateId ?? e.actorId ?? e.eventType}</a> <span class="hint">{when(e.published)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function EventsCard() {
  const [range, setRange] = useState<"24h" | "7d">("24h");
  const stats = useLoad(() => orNull(getStats()), []);
  const chart = useLoad(
    () => orNull(getEventStats("hour", new Date(Math.floor(Date.now() / HOUR) * HOUR - (range === "24h" ? 23 : 167) * HOUR).toISOString())),
    [range],
  );
  const hourLabel = (iso: string) => new Date(iso).toLocaleString(undefined, range === "24h" ? { hour: "2-digit", minute: "2-digit" } : { weekday: "short", hour: "2-digit" });
  const noEvents = stats.data === null || (stats.data !== undefined && stats.data.events.newestReceivedAt === null);
  return (
    <>
      <section class="card wide" aria-labelledby="events-title">
        <div class="card-head">
          <h2 id="events-title">Events received</h2>
          {stats.data === null ? null : (
          <div class="segmented" role="group" aria-label="Range">
            <button type="button" aria-pressed={range === "24h"} onClick={() => setRange("24h")}>
              24 hours
            </button>
            <button type="button" aria-pressed={range === "7d"} onClick={() => setRange("7d")}>
              7 days
            </button>
          </div>
          )}
        </div>
        {stats.error ? <Problem error={stats.error} retry={stats.reload} /> : null}
        {stats.data === null ? <Unavailable feature="event statistics" endpoint="GET /admin/api/stats" /> : null}
        {stats.data ? (
          <div class="tiles">
            <div class="tile">
              <span class="tile-value">{count(stats.data.events.receivedLast24Hours)}</span>
              <span class="tile-label">Events (24 h)</span>
            </div>
            <Highlight label="Failed sign-ins" search={{ type: "user.session.start", outcome: "FAILURE" }} />
            <Highlight label="Security events" search={{ type: "security.*" }} />
            <div class="tile">
              <span class="tile-value">{count(stats.data.outbox.batches)}</span>
              <span class="tile-label">Deliveries waiting to fan out</span>
            </div>
          </div>
        ) : null}
        {chart.data ? <EventsChart stats={chart.data} bucketLabel={hourLabel} /> : null}
        {chart.loading && chart.data === undefined ? <Loading what="the chart" /> : null}
        {chart.error ? <LoadFailure error={chart.error} retry={chart.reload} feature="the events chart" endpoint="GET /admin/api/stats/events" /> : null}
      </section>
      {stats.data ? (
        <section class="card" aria-labelledby="storage-title">
          <h2 id="storage-title">Storage</h2>
          <p>
            D1: {bytes(stats.data.d1.sizeBytes)} of {bytes(stats.data.d1.limitBytes)}
            {stats.data.d1.usedPercent !== null ? ` (${stats.data.d1.usedPercent} %)` : ""}
          </p>
          <meter min={0} max={100} low={60} high={80} optimum={0} value={stats.data.d1.usedPercent ?? 0} aria-label="D1 size used, percent" />
          <p class="hint">
            Stored events from {when(stats.data.events.oldestReceivedAt)} to {when(stats.data.events.newestReceivedAt)}.
          </p>
        </section>
      ) : null}
      {noEvents ? <ConnectOkta /> : null}
    </>
  );
}

function DestinationTiles() {
  const loaded = useLoad(async () => {
    const [destinations, stats] = await Promise.all([listDestinations(), orNull(getDeliveryStats())]);
    return { destinations, stats };
  }, []);
  if (loaded.loading && !loaded.data) return <Loading what="destinations" />;
  if (loaded.error) return <Problem error={loaded.error} retry={loaded.reload} />;
  const { destinations, stats } = loaded.data!;
  const health = new Map(stats?.destinations.map((d) => [d.destinationId, d]) ?? []);
  return (
    <section class="card wide" aria-labelledby="destination-health-title">
      <h2 id="destination-health-title">Destinations</h2>
      {destinations.length === 0 ? (
        <p>
          No destinations: events are stored and go nowhere else. <a href={href("destinations", "new")}>Create one</a> to forward them.
        </p>
      ) : (
        <ul class="tiles">
          {destinations.map((d) => {
            const h = health.get(d.id);
            return (
              <li key={d.id} class={`tile${d.state === "disabled" || (h?.dead ?? 0) > 0 || d.lastFailure ? " alert" : ""}`} data-destination-id={d.id}>
                <span>
                  <a href={href("destinations", d.id)} class="tile-title">
                    {d.name}
                  </a>{" "}
                  <StateBadge state={d.state} />
                </span>
                {h ? (
                  <span class="tile-label">
                    {percent(h.successRate)} delivered · {count(h.retrying)} retrying · {count(h.waiting)} queued · {count(h.dead)} dead (24 h)
                  </span>
                ) : null}
                <span class="tile-label">
                  {d.lastFailure ? `Last failure: ${lastFailureText(d.lastFailure)}` : "No failure standing"}
                  {d.consecutiveFailures > 0 ? ` · ${count(d.consecutiveFailures)} in a row` : ""}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {stats === null && destinations.length > 0 ? <Unavailable feature="delivery health (success rate, queued, dead)" endpoint="GET /admin/api/stats/deliveries" /> : null}
    </section>
  );
}

/** "DENY 12 · empty 3" — the type's decisions, most first (the first three, then "…"). */
function decisionsText(t: InlineTypeStats): string {
  const shown = t.decisions.slice(0, 3).map((d) => `${d.decision} ${count(d.count)}`);
  return t.decisions.length > 3 ? `${shown.join(" · ")} · …` : shown.join(" · ");
}

function InlineDecisions({ types }: { types: InlineTypeStats[] }) {
  const called = types.filter((t) => t.calls > 0);
  if (called.length === 0) {
    return <p class="hint">No inline hook call in the last 24 hours. Okta calls them at {`${location.origin}/hooks/inline/<type>`}.</p>;
  }
  return (
    <>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Inline hook calls, last 24 hours, scrollable">
        <table>
          <caption>Inline hook calls, last 24 hours</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Calls</th>
              <th scope="col">Decisions</th>
              <th scope="col">Fallbacks</th>
              <th scope="col">p95 (ms)</th>
            </tr>
          </thead>
          <tbody>
            {called.map((t) => {
              const fallbacks = t.fallbacks.reduce((sum, f) => sum + f.count, 0);
              return (
                <tr key={t.type} data-inline-type={t.type}>
                  <th scope="row">
                    <a href={`${href("inline-hooks")}?type=${t.type}`}>{TYPE_LABELS[t.type]}</a>
                  </th>
                  <td>
                    {count(t.calls)}
                    {t.complete ? "" : "+"}
                  </td>
                  <td>{decisionsText(t)}</td>
                  <td>{fallbacks === 0 ? "—" : t.fallbacks.map((f) => `${f.reason} ${count(f.count)}`).join(" · ")}</td>
                  <td>{t.latencyMs ? count(t.latencyMs.p95) : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {called.some((t) => !t.complete) ? <p class="hint">+ counted over the newest calls of the day (the gateway reads a bounded number per type).</p> : null}
    </>
  );
}

function InlineCard() {
  const rules = useLoad(() => listRules(), []);
  const stats = useLoad(() => orNull(getInlineStats()), []);
  return (
    <section class="card" aria-labelledby="inline-title">
      <h2 id="inline-title">Inline hooks</h2>
      {rules.error ? <Problem error={rules.error} retry={rules.reload} /> : null}
      {rules.data ? (
        <p>
          {rules.data.length === 0 ? "No rules yet." : `${count(rules.data.filter((r) => r.enabled).length)} of ${count(rules.data.length)} ${rules.data.length === 1 ? "rule" : "rules"} enabled.`}{" "}
          <a href={href("inline-hooks")}>Manage rules</a>
        </p>
      ) : null}
      {stats.data === null ? <Unavailable feature="inline hook decisions and p95 latency per type" endpoint="GET /admin/api/stats/inline" /> : null}
      {stats.data ? <InlineDecisions types={stats.data.types} /> : null}
      {stats.loading && stats.data === undefined ? <Loading what="inline hook decisions" /> : null}
      {stats.error ? <Problem error={stats.error} retry={stats.reload} /> : null}
    </section>
  );
}

export function Overview() {
  return (
    <Page title="Overview">
      <div class="grid">
        <HealthCard />
        <EventsCard />
        <DestinationTiles />
        <InlineCard />
      </div>
    </Page>
  );
}
