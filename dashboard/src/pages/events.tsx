/**
 * Events: the operations API's search (type or prefix, time range, actor, outcome), newest first, with keyset
 * paging that says honestly what it knows: the API reads a bounded number of events per page, so a short page with
 * a cursor means "more may match" and is offered as "Load more", and only a null cursor means the end.
 *
 * Live (on by default): while the tab is visible, the newest page is read every 5 s and events not seen yet are
 * added on top. When you have scrolled down or loaded older pages they are held back behind a "Show N new events"
 * button instead, so the rows you are reading never move. More new events than the first pages hold are not
 * stitched in with a gap: the button then offers the newest events afresh.
 *
 * The filters live in the fragment (#/events?type=…), so a view can be bookmarked; "Replay matching events" sends
 * what they match again, after a dry run's count. Opening an event by its uuid works on every gateway.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { formErrorsOf, NO_ERRORS, type FormErrors } from "../api/errors";
import { listDestinations, replayFilter, searchEvents } from "../api/gateway";
import type { EventSearch, EventSummary, ReplayDryRun, ReplayJob } from "../api/types";
import { ConfirmDialog } from "../components/dialog";
import { EmptyState, Loading, Problem, Unavailable } from "../components/feedback";
import { Checkbox, Select, TextField } from "../components/fields";
import { count, when } from "../components/format";
import { Page } from "../components/page";
import { ReplayProgress } from "../components/replay-job";
import { useLoad } from "../components/use-load";
import { href, navigate } from "../router";

const LIVE_INTERVAL_MS = 5_000;
const PAGE = 50;
/** Pages read at most per live poll to reach the events already shown. */
const LIVE_PAGES = 4;
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

function Filters({ search, errors }: { search: EventSearch; errors: FormErrors }) {
  const [draft, setDraft] = useState({
    type: search.type ?? "",
    since: toLocal(search.since ?? null),
    until: toLocal(search.until ?? null),
    timeField: search.timeField ?? "published",
    actor: search.actor ?? "",
    outcome: search.outcome ?? "",
  });
  const set = (key: keyof typeof draft) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const e = errors.fields;
  return (
    <form
      class="filters"
      aria-label="Filter events"
      onSubmit={(ev) => {
        ev.preventDefault();
        const params = new URLSearchParams();
        const values: Record<string, string> = { ...draft, since: toIso(draft.since), until: toIso(draft.until) };
        if (!values.since && !values.until) delete values.timeField;
        for (const [k, v] of Object.entries(values)) if (v) params.set(k, v.trim());
        navigate(`${href("events")}${params.size ? `?${params}` : ""}`);
      }}
    >
      <TextField id="type" label="Type" value={draft.type} onInput={set("type")} placeholder="user.session.* or user.session.start" error={e.type} />
      <TextField id="actor" label="Actor id or login" value={draft.actor} onInput={set("actor")} error={e.actor} />
      <Select
        id="outcome"
        label="Outcome"
        value={draft.outcome}
        onChange={set("outcome")}
        error={e.outcome}
        options={[["", "Any"], ...["SUCCESS", "FAILURE", "DENY", "ALLOW", "CHALLENGE", "SKIPPED", "UNKNOWN"].map((o) => [o, o] as const)]}
      />
      <TextField id="since" label="From" type="datetime-local" value={draft.since} onInput={set("since")} error={e.since} />
      <TextField id="until" label="To" type="datetime-local" value={draft.until} onInput={set("until")} error={e.until} />
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

/** Replay what the filters match: a dry run's count first, then the job, after a confirmation. */
function ReplayMatching({ search, onStarted }: { search: EventSearch; onStarted: (job: ReplayJob) => void }) {
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState("");
  const [counted, setCounted] = useState<ReplayDryRun | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const destinations = useLoad(() => (open ? listDestinations() : Promise.resolve([])), [open]);
  const run = async <T,>(what: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setFailure(null);
    try {
      return await what();
    } catch (error) {
      setFailure(error);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setOpen(false);
    setCounted(null);
  };
  return (
    <>
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        Replay matching events…
      </button>
      <ConfirmDialog
        open={open}
        title="Replay the events these filters match?"
        confirmLabel={counted ? `Replay ${count(counted.events)} events` : "Count them"}
        busy={busy || (counted !== null && counted.events === 0)}
        onCancel={close}
        onConfirm={async () => {
          if (!counted) {
            const dry = await run(() => replayFilter(search, target || undefined, true));
            if (dry) setCounted(dry);
            return;
          }
          const job = await run(() => replayFilter(search, target || undefined, false));
          if (job) {
            onStarted(job);
            close();
          }
        }}
      >
        <p>Each is sent again with its own webhook-id and a header naming the original delivery. A destination's own filter still applies.</p>
        <Select
          id="replay-filter-target"
          label="Send to"
          value={target}
          onChange={(v) => {
            setTarget(v);
            setCounted(null);
          }}
          options={[["", "Every destination whose filter matches now"], ...(destinations.data ?? []).map((d) => [d.id, d.name] as const)]}
        />
        {counted ? (
          <div class="notice" role="status">
            <p>
              {count(counted.events)} events match{counted.complete ? "" : " (counted the newest 1,000,000)"}
              {counted.destinations.length > 0 ? ": " : "."}
              {counted.destinations.map((d, i) => `${i > 0 ? ", " : ""}${d.name} ${d.exact ? "" : "up to "}${count(d.events)}`).join("")}
            </p>
          </div>
        ) : null}
        {failure ? <Problem error={failure} /> : null}
      </ConfirmDialog>
    </>
  );
}

export function Events({ params }: { params: URLSearchParams }) {
  const search = searchOf(params);
  const filtered = Object.keys(search).length > 0;
  const [events, setEvents] = useState<EventSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [lastShort, setLastShort] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [live, setLive] = useState(true);
  const [held, setHeld] = useState<EventSummary[]>([]);
  const [gap, setGap] = useState(false);
  const [jobs, setJobs] = useState<ReplayJob[]>([]);
  const seen = useRef(new Set<string>());
  const pagesLoaded = useRef(0);
  const table = useRef<HTMLDivElement>(null);

  const load = async (after?: string) => {
    setLoading(true);
    setError(null);
    setErrors(NO_ERRORS);
    try {
      const page = await searchEvents(search, after, PAGE);
      if (after === undefined) {
        seen.current = new Set();
        pagesLoaded.current = 0;
        setHeld([]);
        setGap(false);
      }
      const fresh = page.events.filter((e) => !seen.current.has(e.uuid));
      for (const e of fresh) seen.current.add(e.uuid);
      pagesLoaded.current++;
      setEvents((current) => (after === undefined ? fresh : [...current, ...fresh]));
      setCursor(page.nextCursor);
      setLastShort(page.nextCursor !== null && page.events.length < PAGE);
    } catch (failure) {
      setError(failure);
      setErrors(formErrorsOf(failure, FIELDS));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), []);

  /** Whether the top of the table is on screen and only the first page is loaded: new rows may go in directly. */
  const atTop = () => pagesLoaded.current <= 1 && (table.current?.getBoundingClientRect().top ?? 0) >= 0;

  useEffect(() => {
    if (!live || error) return;
    let busy = false;
    const poll = async () => {
      if (busy || document.visibilityState !== "visible") return;
      busy = true;
      try {
        const fresh: EventSummary[] = [];
        let after: string | undefined;
        // Read back to the newest event shown (with none shown yet, the first page is all there is to add).
        let reached = false;
        for (let i = 0; i < LIVE_PAGES && !reached; i++) {
          const page = await searchEvents(search, after, PAGE);
          for (const e of page.events) {
            if (seen.current.has(e.uuid)) reached = true;
            else if (!reached) fresh.push(e);
          }
          if (page.nextCursor === null || seen.current.size === 0) reached = true;
          after = page.nextCursor ?? undefined;
        }
        if (!reached) return setGap(true);
        if (fresh.length === 0) return;
        for (const e of fresh) seen.current.add(e.uuid);
        if (atTop()) setEvents((current) => [...fresh, ...current]);
        else setHeld((current) => [...fresh, ...current]);
      } catch (failure) {
        setError(failure);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(poll, LIVE_INTERVAL_MS);
    document.addEventListener("visibilitychange", poll);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", poll);
    };
  }, [live, error]);

  const showHeld = () => {
    if (gap) void load();
    else {
      setEvents((current) => [...held, ...current]);
      setHeld([]);
    }
    table.current?.scrollIntoView({ block: "start" });
  };

  const missing = isMissingEndpoint(error);
  const fieldErrors = Object.keys(errors.fields).length > 0;
  return (
    <Page title="Events" actions={missing ? undefined : <ReplayMatching search={search} onStarted={(job) => setJobs((j) => [job, ...j])} />}>
      <p class="lead">Every event Okta delivered, stored once, with where it went.</p>
      <OpenByUuid />
      {missing ? (
        <Unavailable feature="event search" endpoint="GET /admin/api/events">
          <p>Until then, open an event by its uuid above: its deliveries and every attempt are shown.</p>
        </Unavailable>
      ) : (
        <>
          <Filters search={search} errors={errors} />
          {jobs.map((job) => (
            <ReplayProgress key={job.id} job={job} />
          ))}
          {error && !fieldErrors ? <Problem error={error} retry={() => void load()} /> : null}
          <Checkbox
            id="live"
            label={`Live: look for new events every ${LIVE_INTERVAL_MS / 1000} seconds while this tab is visible`}
            checked={live}
            onChange={setLive}
          />
          {held.length > 0 || gap ? (
            <button type="button" class="new-events" onClick={showHeld}>
              {gap ? "More new events than a few pages: show the newest" : `Show ${count(held.length)} new event${held.length === 1 ? "" : "s"}`}
            </button>
          ) : null}
          {loading && events.length === 0 ? <Loading what="events" /> : null}
          {!loading && !error && events.length === 0 && cursor === null ? (
            <EmptyState title={filtered ? "No event matches these filters" : "No events yet"}>
              {filtered ? (
                <p>
                  Widen the time range or <a href={href("events")}>clear the filters</a>.
                </p>
              ) : (
                <p>
                  Okta has not delivered any event to this gateway. Create the event hook with the URL <code>{`${location.origin}/hooks/events`}</code> and
                  verify it (<a href={href("overview")}>how</a>).
                </p>
              )}
            </EmptyState>
          ) : null}
          <div ref={table}>{events.length > 0 ? <EventRows events={events} /> : null}</div>
          {cursor ? (
            <div class="more">
              {events.length === 0 && !loading ? <p>No match among the events read so far; older events may still match.</p> : null}
              {lastShort && events.length > 0 ? (
                <p class="hint">The last page was short: each page reads a bounded number of events, so older ones may still match.</p>
              ) : null}
              <button type="button" class="secondary" disabled={loading} onClick={() => load(cursor)}>
                {loading ? "Loading…" : "Load more"}
              </button>
            </div>
          ) : events.length > 0 && !loading ? (
            <p class="hint">No older event matches.</p>
          ) : null}
        </>
      )}
    </Page>
  );
}
