/**
 * Recent inline hook calls of one type, on the Inline hooks page (GET /admin/api/inline-calls): what each call
 * decided, by what (a rule, a handler, the default, a fallback), why it fell back, how fast, when; filtered by
 * decision, decided-by and fallback reason. Pages follow the API's cursor: each page reads a bounded number of
 * audit rows, so a short page with a cursor means "more may match" and is offered as "Load more". A gateway
 * without the endpoint (404) says so.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { formErrorsOf, NO_ERRORS, type FormErrors } from "../api/errors";
import { searchInlineCalls } from "../api/gateway";
import type { InlineCall, InlineCallSearch, InlineHookType } from "../api/types";
import { Loading, Problem, Unavailable } from "../components/feedback";
import { Select, TextField } from "../components/fields";
import { count, when } from "../components/format";

const FILTER_FIELDS = ["decision", "decidedBy", "fallbackReason"];
const FALLBACK_REASONS = ["deadline", "handler_error", "rule_error", "invalid_response", "response_too_large"];
const DECIDED_BY: ReadonlyArray<readonly [string, string]> = [
  ["", "Anything"],
  ["rules:*", "A rule"],
  ["handler", "A handler"],
  ["default", "The default"],
  ["fallback", "A fallback"],
  ["repeat:*", "A repeat (Okta's retry)"],
];

interface Filters {
  decision: string;
  decidedBy: string;
  fallbackReason: string;
}
const NO_FILTERS: Filters = { decision: "", decidedBy: "", fallbackReason: "" };

function CallRows({ calls, label }: { calls: InlineCall[]; label: string }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`${label}, scrollable`}>
      <table>
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Decision</th>
            <th scope="col">Decided by</th>
            <th scope="col">Fallback</th>
            <th scope="col">Latency</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {calls.map((c, i) => (
            <tr key={`${c.receivedAt}-${c.oktaRequestId ?? i}-${i}`} data-okta-request-id={c.oktaRequestId ?? undefined}>
              <td>{when(c.receivedAt)}</td>
              <td>
                <code>{c.decision}</code>
              </td>
              <td>
                <code>{c.decidedBy}</code>
              </td>
              <td>{c.fallbackReason ? <span class="badge delivery-failed">{c.fallbackReason}</span> : "—"}</td>
              <td>{count(c.latencyMs)} ms</td>
              <td>{c.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RecentCalls({ type, typeLabel }: { type: InlineHookType; typeLabel: string }) {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [calls, setCalls] = useState<InlineCall[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [lastShort, setLastShort] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const generation = useRef(0);

  const search: InlineCallSearch = {
    type,
    ...(applied.decision.trim() && { decision: applied.decision.trim() }),
    ...(applied.decidedBy && { decidedBy: applied.decidedBy }),
    ...(applied.fallbackReason && { fallbackReason: applied.fallbackReason }),
  };

  const load = async (after?: string) => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const page = await searchInlineCalls(search, after);
      if (mine !== generation.current) return;
      setCalls((shown) => (after ? [...shown, ...page.calls] : page.calls));
      setCursor(page.nextCursor);
      setLastShort(page.nextCursor !== null && page.calls.length < 50);
      setError(undefined);
      setErrors(NO_ERRORS);
    } catch (e) {
      if (mine !== generation.current) return;
      setError(e);
      setErrors(formErrorsOf(e, FILTER_FIELDS));
      if (!after) setCalls([]);
      setCursor(null);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [type, applied]);

  const set = (key: keyof Filters) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const filtered = applied.decision !== "" || applied.decidedBy !== "" || applied.fallbackReason !== "";
  const fieldErrors = Object.keys(errors.fields).length > 0;
  return (
    <section class="card" aria-labelledby="recent-calls-title">
      <div class="card-head">
        <h2 id="recent-calls-title">Recent {typeLabel.toLowerCase()} calls</h2>
        <button type="button" class="secondary small" disabled={loading} onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {isMissingEndpoint(error) ? (
        <Unavailable feature="recent inline hook calls" endpoint="GET /admin/api/inline-calls" />
      ) : (
        <>
          <form
            class="filters"
            aria-label="Filter inline hook calls"
            onSubmit={(ev) => {
              ev.preventDefault();
              setApplied({ ...draft });
            }}
          >
            <TextField id="call-decision" label="Decision" value={draft.decision} onInput={set("decision")} placeholder="DENY, patch, empty…" error={errors.fields.decision} />
            <Select id="call-decided-by" label="Decided by" value={draft.decidedBy} onChange={set("decidedBy")} options={DECIDED_BY} error={errors.fields.decidedBy} />
            <Select
              id="call-fallback"
              label="Fallback reason"
              value={draft.fallbackReason}
              onChange={set("fallbackReason")}
              options={[["", "Any"], ...FALLBACK_REASONS.map((r) => [r, r] as const)]}
              error={errors.fields.fallbackReason}
            />
            <div class="actions">
              <button type="submit">Filter</button>
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  setDraft(NO_FILTERS);
                  setApplied(NO_FILTERS);
                }}
              >
                Clear
              </button>
            </div>
          </form>
          {error && !fieldErrors ? <Problem error={error} retry={() => void load()} /> : null}
          {loading && calls.length === 0 ? <Loading what="inline hook calls" /> : null}
          {!loading && !error && calls.length === 0 && cursor === null ? (
            <p>
              {filtered
                ? "No call matches these filters."
                : `No ${typeLabel.toLowerCase()} hook call recorded yet. Okta's calls appear here within a second or two of being answered.`}
            </p>
          ) : null}
          {calls.length > 0 ? <CallRows calls={calls} label={`${typeLabel} hook calls, newest first`} /> : null}
          {cursor ? (
            <div class="more">
              {calls.length === 0 && !loading ? <p>No match among the calls read so far; older calls may still match.</p> : null}
              {lastShort && calls.length > 0 ? <p class="hint">The last page was short: each page reads a bounded number of calls, so older ones may still match.</p> : null}
              <button type="button" class="secondary" disabled={loading} onClick={() => void load(cursor)}>
                {loading ? "Loading…" : "Load more"}
              </button>
            </div>
          ) : calls.length > 0 && !loading ? (
            <p class="hint">No older call matches.</p>
          ) : null}
        </>
      )}
    </section>
  );
}
