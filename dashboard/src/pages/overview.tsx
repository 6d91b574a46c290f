/**
 * Overview: the gateway's health (GET /healthz with the token), events per hour or day by type group, failed
 * sign-ins and security events of the last 24 hours, destination health tiles, D1's size against its cap, and the
 * inline hook rules. Parts that need the operations API (stats, event search) say so when the gateway lacks it.
 */
import { useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { getDeliveryStats, getEventStats, getHealth, getStats, listDestinations, listRules, searchEvents } from "../api/gateway";
import type { EventSearch } from "../api/types";
import { EventsChart } from "../components/chart";
import { LoadFailure, Loading, Problem, Unavailable } from "../components/feedback";
import { bytes, count, percent, when } from "../components/format";
import { Page } from "../components/page";
import { useLoad } from "../components/use-load";
import { href } from "../router";
import { ConnectOkta } from "./connect-okta";
import { StateBadge } from "./destinations";

const HOUR = 3_600_000;
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
      {h.disabledDestinations.length > 0 ? (
        <div class="notice warning">
          <p>Disabled destinations (their events wait):</p>
          <ul>
            {h.disabledDestinations.map((d) => (
              <li key={d.id}>
                <a href={href("destinations")}>{d.name}</a>
                {d.disabledReason ? `: ${d.disabledReason}` : ""}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/** "12" or "200+" events matching a search in the last 24 hours, linking to the Events page with it. */
function Highlight({ label, search, alert }: { label: string; search: EventSearch; alert: boolean }) {
  const since = new Date(Math.floor(Date.now() / HOUR) * HOUR - 23 * HOUR).toISOString();
  const found = useLoad(() => searchEvents({ ...search, since }, undefined, 200), []);
  if (found.error) return isMissingEndpoint(found.error) ? null : <Problem error={found.error} retry={found.reload} />;
  const n = found.data?.events.length;
  const more = found.data?.nextCursor !== null && found.data?.nextCursor !== undefined;
  const params = new URLSearchParams({ ...(search as Record<string, string>), since });
  return (
    <a class={`tile${alert && n ? " alert" : ""}`} href={`${href("events")}?${params}`}>
      <span class="tile-value">{n === undefined ? "…" : `${count(n)}${more ? "+" : ""}`}</span>
      <span class="tile-label">{label} (24 h)</span>
    </a>
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
            <Highlight label="Failed sign-ins" search={{ type: "user.session.start", outcome: "FAILURE" }} alert />
            <Highlight label="Security events" search={{ type: "security.*" }} alert />
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
              <li key={d.id} class={`tile${d.state === "disabled" || (h?.dead ?? 0) > 0 ? " alert" : ""}`}>
                <a href={href("destinations", d.id)} class="tile-title">
                  {d.name}
                </a>
                <StateBadge state={d.state} />
                <span class="tile-label">
                  {h ? `${percent(h.successRate)} delivered · ${count(h.retrying)} retrying · ${count(h.waiting)} queued · ${count(h.dead)} dead` : ""}
                  {d.consecutiveFailures > 0 ? ` ${count(d.consecutiveFailures)} failures in a row` : ""}
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

function InlineCard() {
  const rules = useLoad(() => listRules(), []);
  return (
    <section class="card" aria-labelledby="inline-title">
      <h2 id="inline-title">Inline hooks</h2>
      {rules.error ? <Problem error={rules.error} retry={rules.reload} /> : null}
      {rules.data ? (
        <p>
          {rules.data.length === 0 ? "No rules yet." : `${count(rules.data.filter((r) => r.enabled).length)} enabled rules of ${count(rules.data.length)}.`}{" "}
          <a href={href("inline-hooks")}>Manage rules</a>
        </p>
      ) : null}
      <p class="hint">Decisions and p95 latency per hook type appear here once the gateway keeps inline call statistics.</p>
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
