/**
 * Events: the operations API's search (type or prefix, time range, actor, outcome), newest first, with keyset
 * paging ("Older events" follows nextCursor) and, while "Live" is on and the tab is visible, the newest page
 * polled every 10 s with new events added on top. The filters live in the fragment (#/events?type=…), so a view
 * can be bookmarked. Opening an event by its uuid works on every gateway (its deliveries are on main).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { formErrorsOf, NO_ERRORS, type FormErrors } from "../api/errors";
import { searchEvents } from "../api/gateway";
import type { EventSearch, EventSummary } from "../api/types";
import { EmptyState, Loading, Problem, Unavailable } from "../components/feedback";
import { Checkbox, Select, TextField } from "../components/fields";
import { when } from "../components/format";
import { Page } from "../components/page";
import { href, navigate } from "../router";

const LIVE_INTERVAL_MS = 10_000;
/** Most rows kept in the table; older ones are a click on "Older events" away. */
const MAX_ROWS = 1000;
const FIELDS = ["type", "since", "until", "timeField", "actor", "outcome"] as const;

/** datetime-local text (the reader's time zone) ↔ ISO 8601 in UTC. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
function toLocal(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function searchOf(params: URLSearchParams): EventSearch {
  const search: EventSearch = {};
  for (const field of FIELDS) {
    const value = params.get(field);
    if (value) (search as Record<string, string>)[field] = value;
  }
  return search;
}

function OpenByUuid() {
  const [uuid, setUuid] = useState("");
  const [error, setError] = useState<string | undefined>();
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (uuid.trim() === "") return setError("Enter an event's uuid (Okta's data.events[].uuid).");
        navigate(href("events", uuid.trim()));
      }}
    >
      <TextField id="open-uuid" label="Open an event by its uuid" value={uuid} onInput={setUuid} error={error} />
      <button type="submit" class="secondary">
        Open
      </button>
    </form>
  );
}

function Filters({ search }: { search: EventSearch }) {
  const [draft, setDraft] = useState({
    type: search.type ?? "",
    since: toLocal(search.since ?? null),
    until: toLocal(search.until ?? null),
    timeField: search.timeField ?? "published",
    actor: search.actor ?? "",
    outcome: search.outcome ?? "",
  });
  const set = (key: keyof typeof draft) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  return (
    <form
      class="filters"
      aria-label="Filter events"
      onSubmit={(e) => {
        e.preventDefault();
        const params = new URLSearchParams();
        const values: Record<string, string> = { ...draft, since: toIso(draft.since), until: toIso(draft.until) };
        if (!values.since && !values.until) delete values.timeField;
        for (const [k, v] of Object.entries(values)) if (v) params.set(k, v.trim());
        navigate(`${href("events")}${params.size ? `?${params}` : ""}`);
      }}
    >
      <TextField id="type" label="Type" value={draft.type} onInput={set("type")} placeholder="user.session.* or user.session.start" />
      <TextField id="actor" label="Actor id or login" value={draft.actor} onInput={set("actor")} />
      <Select
        id="outcome"
        label="Outcome"
        value={draft.outcome}
        onChange={set("outcome")}
        options={[["", "Any"], ...["SUCCESS", "FAILURE", "DENY", "ALLOW", "CHALLENGE", "SKIPPED", "UNKNOWN"].map((o) => [o, o] as const)]}
      />
      <TextField id="since" label="From" type="datetime-local" value={draft.since} onInput={set("since")} />
      <TextField id="until" label="To" type="datetime-local" value={draft.until} onInput={set("until")} />
      <Select
        id="timeField"
        label="Time of"
        value={draft.timeField}
        onChange={set("timeField")}
        options={[
          ["published", "Okta's published time"],
          ["received", "arrival at the gateway"],
        ]}
      />
      <div class="actions">
        <button type="submit">Search</button>
        <a class="button secondary" href={href("events")}>
          Clear
        </a>
      </div>
    </form>
  );
}

function EventRows({ events }: { events: EventSummary[] }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>Events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Published</th>
            <th scope="col">Type</th>
            <th scope="col">Actor</th>
            <th scope="col">Outcome</th>
            <th scope="col">Forwarding</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.uuid}>
              <td>
                <a href={href("events", e.uuid)}>{when(e.published)}</a>
              </td>
              <td>
                <code>{e.eventType}</code>
              </td>
              <td>{e.actorAlternateId ?? e.actorId ?? "—"}</td>
              <td>
                <span class={`badge outcome-${(e.outcomeResult ?? "none").toLowerCase()}`}>{e.outcomeResult ?? "—"}</span>
              </td>
              <td>{e.forwardState.replace("_", " ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Events({ params }: { params: URLSearchParams }) {
  const search = searchOf(params);
  const [events, setEvents] = useState<EventSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [live, setLive] = useState(false);
  const seen = useRef(new Set<string>());

  const load = async (after?: string) => {
    setLoading(true);
    setError(null);
    setErrors(NO_ERRORS);
    try {
      const page = await searchEvents(search, after);
      for (const e of page.events) seen.current.add(e.uuid);
      setEvents((current) => (after === undefined ? page.events : [...current, ...page.events]).slice(0, MAX_ROWS));
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(failure);
      setErrors(formErrorsOf(failure, FIELDS));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);

  useEffect(() => {
    if (!live) return;
    const timer = setInterval(async () => {
      if (document.visibilityState !== "visible") return;
      try {
        const page = await searchEvents(search);
        const fresh = page.events.filter((e) => !seen.current.has(e.uuid));
        for (const e of fresh) seen.current.add(e.uuid);
        if (fresh.length > 0) setEvents((current) => [...fresh, ...current].slice(0, MAX_ROWS));
      } catch (failure) {
        setError(failure);
        setLive(false);
      }
    }, LIVE_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [live]);

  const missing = isMissingEndpoint(error);
  return (
    <Page title="Events">
      <p class="lead">Every event Okta delivered, stored once, with where it went.</p>
      <OpenByUuid />
      {missing ? (
        <Unavailable feature="event search" endpoint="GET /admin/api/events">
          <p>Until then, open an event by its uuid above: its deliveries and every attempt are shown.</p>
        </Unavailable>
      ) : (
        <>
          <Filters search={search} />
          {errors.form === null && Object.keys(errors.fields).length > 0 ? (
            <Problem error={new Error(Object.entries(errors.fields).map(([f, m]) => `${f}: ${m}`).join("; "))} />
          ) : error ? (
            <Problem error={error} retry={() => void load()} />
          ) : null}
          <Checkbox id="live" label="Live: add new events every 10 seconds" checked={live} onChange={setLive} />
          {loading && events.length === 0 ? <Loading what="events" /> : null}
          {!loading && !error && events.length === 0 ? (
            <EmptyState title={Object.keys(search).length > 0 ? "No event matches these filters" : "No events yet"}>
              {Object.keys(search).length > 0 ? (
                <p>
                  Widen the time range or <a href={href("events")}>clear the filters</a>. A short page can also mean the search stopped at its read limit:
                  follow "Older events" when it is offered.
                </p>
              ) : (
                <p>
                  Okta has not delivered any event to this gateway. Create the event hook with the URL <code>{`${location.origin}/hooks/events`}</code> and
                  verify it (<a href={href("overview")}>how</a>).
                </p>
              )}
            </EmptyState>
          ) : null}
          {events.length > 0 ? <EventRows events={events} /> : null}
          {cursor ? (
            <button type="button" class="secondary" disabled={loading} onClick={() => load(cursor)}>
              {loading ? "Loading…" : "Older events"}
            </button>
          ) : null}
        </>
      )}
    </Page>
  );
}
