/**
 * Event search (GET /admin/api/events, and the replay jobs that walk the same selection): newest first, keyset
 * pagination on events.id, and a bounded number of rows read per call — never OFFSET, and no index beyond the two
 * the ingest path already pays for (plus the partial `events_failed`, migrations/0006).
 *
 * Why ids: `events.id` is an INTEGER PRIMARY KEY given in commit order (D1 runs one transaction at a time), so an
 * event stored while someone pages has a larger id than every page already read, and "id < cursor" stays correct
 * however many events arrive. Time ranges become id ranges through the batches' `received_at` index (one row read
 * each way), widened by a clock-skew margin and, for `published`, by how late Okta may deliver; the time column
 * itself is then compared exactly.
 *
 * How each filter is read (docs/storage.md "Searching events"):
 * - an exact type walks the (event_type, id) index; `events_failed` serves outcome FAILURE and DENY;
 * - a type prefix that covers a few types walks each type's index and merges them; a broader one, and every other
 *   filter, scans ids downwards through a window of at most `budget` rows;
 * - the target id lives only in the payload, which is decoded in the Worker for the rows of a smaller window
 *   (PAYLOAD_SCAN_BUDGET: decoding costs CPU). A column for it would cost bytes on every event, and an index on it
 *   one more row written per event, for a search that a type or a time range narrows well.
 * When a filter has to look at more rows than the budget before the page is full, the page holds what matched so
 * far and `nextBefore` says where to continue; a page can therefore be short, or empty, while more events match:
 * only `nextBefore === null` means the end.
 */
import { allRows } from "./d1";
import { FORWARD, type EventRow } from "./events";
import { BatchPayload, plainAsText, type StoredPayload } from "./payload-codec";

/** What became of forwarding an event as a whole. */
export type ForwardState = "skipped" | "pending" | "unrouted" | "fanned_out";
export const FORWARD_STATES: readonly ForwardState[] = ["pending", "fanned_out", "unrouted", "skipped"];

export interface EventFilter {
  /** An exact event type, or a prefix ending in ".*" (`user.lifecycle.*`). Absent or "*": every type. */
  type?: string;
  /** `actor.id` or `actor.alternateId`, exactly. */
  actor?: string;
  /** `outcome.result`, exactly (Okta's values are upper case: SUCCESS, FAILURE, DENY, …). */
  outcome?: string;
  /** The Okta org host the event came from (the envelope's `source`). */
  org?: string;
  /** Some `target[].id` of the event (read from the payload). */
  targetId?: string;
  forward?: readonly ForwardState[];
  /** Epoch ms; `since` inclusive, `until` exclusive. */
  time?: { field: "published" | "received"; since?: number; until?: number };
}

export interface SearchOptions {
  /** Continue below this id (a previous call's `nextBefore`); absent: from the newest event. */
  before?: number | null;
  /** Most events returned. */
  limit: number;
  /** Most rows one call reads to fill the page (see the header); default SCAN_BUDGET. */
  budget?: number;
  /** Return each event's text too (read from its batch's payload). */
  withPayload?: boolean;
}

export interface EventSummary {
  id: number;
  uuid: string;
  eventType: string;
  published: number | null;
  receivedAt: number;
  actorId: string | null;
  actorAlternateId: string | null;
  outcomeResult: string | null;
  severity: string | null;
  batchId: number | null;
  forward: number;
  oktaOrg: string | null;
  eventHookId: string | null;
  forwardState: ForwardState;
  /** With `withPayload` only; null when the stored payload cannot be read. */
  payload?: string | null;
}

export interface SearchResult {
  events: EventSummary[];
  /** Pass as `before` to continue; null when nothing below can match. */
  nextBefore: number | null;
}

/** Rows a search reads at most to fill one page (D1 `rows_read`; the issue's target is under 1,000 per page). */
export const SCAN_BUDGET = 700;
/**
 * Rows a target-id search reads the text of at most per page (each batch's payload inflated once for its events,
 * then each text scanned for the id): a few ms of Worker CPU, within the Free plan's 10 ms per request.
 */
export const PAYLOAD_SCAN_BUDGET = 500;
/** A type prefix covering at most this many types walks each type's index; a broader one scans ids. */
export const MAX_MERGED_TYPES = 8;
/**
 * How far apart the receiving time of an ingest request and its commit (which gives its events their ids) can
 * be, clocks of two Workers included: requests commit within seconds (Okta gives up on a hook call after 3 s).
 */
export const CLOCK_SKEW_MS = 60_000;
/**
 * How long after `published` Okta is assumed to deliver an event: a published-time search looks at events
 * received up to this long after its `until` (each of those ids is read: a larger margin means more rows read at
 * the top of the range). Okta delivers event hooks within seconds; an event delivered later than this is found by
 * a received-time search.
 */
export const PUBLISHED_LATENESS_MS = 2 * 60_000;

/** The outcomes the partial index `events_failed` holds (migrations/0006_operations.sql). */
const INDEXED_OUTCOMES = ["FAILURE", "DENY"];
const FAILED_INDEX_TERM = "e.outcome_result IN ('FAILURE', 'DENY')";
const NO_ID = Number.MAX_SAFE_INTEGER;

const COLUMNS = `e.id, e.uuid, e.event_type, e.published, e.actor_id, e.actor_alternate_id, e.outcome_result,
  e.severity, e.batch_id, e.received_at, e.forward, e.payload_offset, e.payload_bytes`;

/** The columns a search reads (the batch's are read per page, in decorate). */
type Row = Omit<EventRow, "okta_org" | "event_hook_id" | "envelope_event_id" | "payload_data">;

/** Numbered SQL parameters (?1, ?2, …) collected as a statement is built. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `?${this.values.length}`;
  }
}

/** `user.lifecycle.*` → the range [`user.lifecycle.`, `user.lifecycle/`) of types starting with `user.lifecycle.`. */
function prefixRange(type: string): { from: string; to: string } {
  const from = type.slice(0, -1);
  return { from, to: from.slice(0, -1) + String.fromCharCode(from.charCodeAt(from.length - 1) + 1) };
}

type TypeFilter = { kind: "any" } | { kind: "exact"; type: string } | { kind: "prefix"; from: string; to: string };

function typeFilter(type: string | undefined): TypeFilter {
  if (type === undefined || type === "*") return { kind: "any" };
  if (type.endsWith(".*")) return { kind: "prefix", ...prefixRange(type) };
  return { kind: "exact", type };
}

/** Conditions on the event row and its joins that are not the driving index. */
function residualConditions(filter: EventFilter, params: Params, skip: { outcome?: boolean }): { where: string[]; joins: string[] } {
  const where: string[] = [];
  const joins: string[] = [];
  if (filter.actor !== undefined) {
    const p = params.add(filter.actor);
    where.push(`(e.actor_id = ${p} OR e.actor_alternate_id = ${p})`);
  }
  if (filter.outcome !== undefined && !skip.outcome) where.push(`e.outcome_result = ${params.add(filter.outcome)}`);
  const time = filter.time;
  if (time) {
    const column = time.field === "published" ? "e.published" : "e.received_at";
    if (time.since !== undefined) where.push(`${column} >= ${params.add(time.since)}`);
    if (time.until !== undefined) where.push(`${column} < ${params.add(time.until)}`);
  }
  if (filter.org !== undefined) {
    // CROSS JOIN: SQLite keeps this join order (events first, then their batch), so the read bound holds.
    joins.push("CROSS JOIN event_batches b ON b.id = e.batch_id");
    where.push(`b.okta_org = ${params.add(filter.org)}`);
  }
  if (filter.forward !== undefined) {
    joins.push("LEFT JOIN forward_outbox o ON o.batch_id = e.batch_id");
    const states = filter.forward.map((state) => {
      switch (state) {
        case "skipped":
          return `e.forward = ${FORWARD.skip}`;
        case "pending":
          return `(e.forward <> ${FORWARD.skip} AND o.batch_id IS NOT NULL)`;
        case "unrouted":
          return `(e.forward = ${FORWARD.unrouted} AND o.batch_id IS NULL)`;
        case "fanned_out":
          return `(e.forward = ${FORWARD.yes} AND o.batch_id IS NULL)`;
      }
    });
    where.push(states.length > 0 ? `(${states.join(" OR ")})` : "0");
  }
  return { where, joins };
}

export interface Bounds {
  /** Lowest id that can match (inclusive). */
  low: number;
  /** Every matching id is below this. */
  high: number;
}

/** The id range the filter's time range and the cursor leave: one batch of 1-row reads. */
async function idBounds(db: D1Database, filter: EventFilter, before: number | null | undefined, needHigh: boolean): Promise<Bounds> {
  const time = filter.time;
  const sinceReceived = time?.since === undefined ? undefined : time.since - CLOCK_SKEW_MS;
  const untilReceived =
    time?.until === undefined ? undefined : time.until + (time.field === "published" ? PUBLISHED_LATENESS_MS : CLOCK_SKEW_MS);
  const statements: D1PreparedStatement[] = [];
  const slots: Record<string, number> = {};
  if (needHigh) {
    slots.max = statements.push(db.prepare("SELECT max(id) AS v FROM events")) - 1;
  }
  if (sinceReceived !== undefined) {
    // The last batch received before `since` minus the skew: every event received from `since` on was committed
    // after it (a request commits well within CLOCK_SKEW_MS of its start), so it has a larger id. None: from 0
    // (events stored before batches existed, migration 0004, have none).
    slots.since =
      statements.push(
        db.prepare("SELECT first_event_id AS v FROM event_batches WHERE received_at < ?1 ORDER BY received_at DESC LIMIT 1").bind(sinceReceived),
      ) - 1;
  }
  if (untilReceived !== undefined) {
    // The first batch received after `until` plus the margin: every event received before `until` was committed
    // before it, so it has a smaller id.
    slots.until =
      statements.push(
        db.prepare("SELECT first_event_id AS v FROM event_batches WHERE received_at > ?1 ORDER BY received_at LIMIT 1").bind(untilReceived),
      ) - 1;
  }
  const results = statements.length > 0 ? await db.batch<Record<string, number | null>>(statements) : [];
  const value = (slot: number | undefined, column = "v") => (slot === undefined ? undefined : (allRows<Record<string, number | null>>(results[slot])[0]?.[column] ?? null));
  const max = value(slots.max);
  const low = value(slots.since) ?? 0;
  let high = before ?? NO_ID;
  const until = value(slots.until);
  if (until !== null && until !== undefined) high = Math.min(high, until);
  if (max !== undefined) high = Math.min(high, (max ?? 0) + 1);
  return { low, high };
}

/** The event types starting with a prefix (one index step each, at most `limit`). */
async function typesInRange(db: D1Database, from: string, to: string, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `WITH RECURSIVE t(type) AS (
         SELECT (SELECT min(event_type) FROM events WHERE event_type >= ?1 AND event_type < ?2)
         UNION ALL
         SELECT (SELECT min(event_type) FROM events WHERE event_type > t.type AND event_type < ?2) FROM t
         WHERE t.type IS NOT NULL LIMIT ?3)
       SELECT type FROM t WHERE type IS NOT NULL`,
    )
    .bind(from, to, limit)
    .all<{ type: string }>();
  return results.map((r) => r.type);
}

/** The ids are integers read from D1: written into a statement, a list needs no bound parameter per id. */
const idList = (ids: readonly number[]) => ids.filter(Number.isSafeInteger).join(",");

/**
 * The texts of `rows`, from their batches' payloads (one read per batch, each decoded once for all its events);
 * null for an event whose payload cannot be read.
 */
async function loadTexts(db: D1Database, rows: readonly Row[]): Promise<Map<number, string | null>> {
  const texts = new Map<number, string | null>();
  const batchIds = [...new Set(rows.map((r) => r.batch_id).filter((id): id is number => id !== null))];
  const payloads = new Map<number, BatchPayload>();
  if (batchIds.length > 0) {
    const { results } = await db
      .prepare(`SELECT batch_id, ${plainAsText("data")} AS data FROM event_payloads WHERE batch_id IN (${idList(batchIds)})`)
      .all<{ batch_id: number; data: StoredPayload }>();
    for (const r of results) payloads.set(r.batch_id, new BatchPayload(r.data));
  }
  for (const row of rows) {
    const payload = row.batch_id === null ? undefined : payloads.get(row.batch_id);
    let text: string | null = null;
    try {
      text = payload ? payload.text({ offset: row.payload_offset, bytes: row.payload_bytes }) : null;
    } catch {
      text = null;
    }
    texts.set(row.id, text);
  }
  return texts;
}

/** Ids that JSON writes as they are (no character needs an escape). */
const PLAIN_ID = /^[A-Za-z0-9._-]+$/;

function hasTarget(payload: string | null, targetId: string): boolean {
  if (payload === null) return false;
  // Most payloads do not mention the id at all: skip parsing them. Exact, because such an id appears verbatim
  // in any JSON text that holds it, unless the text spells characters as \u escapes (then it is parsed).
  if (PLAIN_ID.test(targetId) && !payload.includes(targetId) && !payload.includes("\\u")) return false;
  try {
    const target = (JSON.parse(payload) as { target?: unknown }).target;
    return Array.isArray(target) && target.some((t) => t !== null && typeof t === "object" && (t as { id?: unknown }).id === targetId);
  } catch {
    return false;
  }
}

/** The page's envelope facts and outbox state, per batch (events of a delivery share one). */
async function decorate(db: D1Database, rows: readonly Row[], texts: Map<number, string | null> | null): Promise<EventSummary[]> {
  const batchIds = [...new Set(rows.map((r) => r.batch_id).filter((id): id is number => id !== null))];
  const batches = new Map<number, { okta_org: string | null; event_hook_id: string | null; pending: number }>();
  if (batchIds.length > 0) {
    // The ids are integers read from D1, written into the statement (a page may hold more than D1's 100 bound
    // parameters). D1 counts three rows read per batch: the IN list's entry, the batch, its outbox row.
    const { results } = await db
      .prepare(
        `SELECT b.id, b.okta_org, b.event_hook_id, o.batch_id IS NOT NULL AS pending
         FROM event_batches b LEFT JOIN forward_outbox o ON o.batch_id = b.id
         WHERE b.id IN (${idList(batchIds)})`,
      )
      .all<{ id: number; okta_org: string | null; event_hook_id: string | null; pending: number }>();
    for (const b of results) batches.set(b.id, b);
  }
  return rows.map((r) => {
    const batch = r.batch_id === null ? undefined : batches.get(r.batch_id);
    const forwardState: ForwardState =
      r.forward === FORWARD.skip ? "skipped" : batch?.pending ? "pending" : r.forward === FORWARD.unrouted ? "unrouted" : "fanned_out";
    const summary: EventSummary = {
      id: r.id,
      uuid: r.uuid,
      eventType: r.event_type,
      published: r.published,
      receivedAt: r.received_at,
      actorId: r.actor_id,
      actorAlternateId: r.actor_alternate_id,
      outcomeResult: r.outcome_result,
      severity: r.severity,
      batchId: r.batch_id,
      forward: r.forward,
      oktaOrg: batch?.okta_org ?? null,
      eventHookId: batch?.event_hook_id ?? null,
      forwardState,
    };
    if (texts) summary.payload = texts.get(r.id) ?? null;
    return summary;
  });
}

/** The page and where to continue, from rows fetched newest first down to (and including) `examinedDownTo`. */
function page(matched: Row[], limit: number, examinedDownTo: number | null): { rows: Row[]; nextBefore: number | null } {
  if (matched.length > limit) return { rows: matched.slice(0, limit), nextBefore: matched[limit - 1]!.id };
  return { rows: matched, nextBefore: examinedDownTo };
}

export async function searchEvents(db: D1Database, filter: EventFilter, options: SearchOptions): Promise<SearchResult> {
  const limit = options.limit;
  const jsFilter = filter.targetId !== undefined;
  // Reading texts costs Worker CPU (a batch's payload is inflated once for its events, each candidate's text is
  // scanned): a target search looks at fewer rows.
  const budget = Math.min(options.budget ?? SCAN_BUDGET, jsFilter ? PAYLOAD_SCAN_BUDGET : Number.MAX_SAFE_INTEGER);
  const withPayload = options.withPayload === true;
  const types = typeFilter(filter.type);
  const indexedOutcome = filter.outcome !== undefined && INDEXED_OUTCOMES.includes(filter.outcome);
  /** The page's rows, their texts when asked for, and the page's events. */
  const finish = async (matched: Row[], examinedDownTo: number | null, known?: Map<number, string | null>): Promise<SearchResult> => {
    const result = page(matched, limit, examinedDownTo);
    const texts = withPayload ? (known ?? (await loadTexts(db, result.rows))) : null;
    return { events: await decorate(db, result.rows, texts), nextBefore: result.nextBefore };
  };

  // A narrow type prefix: each of its types' index, merged.
  let mergedTypes: string[] | null = null;
  if (types.kind === "prefix" && !indexedOutcome) {
    const found = await typesInRange(db, types.from, types.to, MAX_MERGED_TYPES + 1);
    if (found.length === 0) return { events: [], nextBefore: null };
    if (found.length <= MAX_MERGED_TYPES) mergedTypes = found;
  }

  const probe = residualConditions(filter, new Params(), { outcome: types.kind !== "exact" && indexedOutcome });
  const hasResidual = probe.where.length > 0 || jsFilter || (types.kind === "prefix" && mergedTypes === null);

  if (mergedTypes !== null && !hasResidual) {
    // Per type at most `perType` rows; the merge is exact down to the highest last id of a stream that was full.
    const bounds = await idBounds(db, filter, options.before, false);
    if (bounds.high <= bounds.low) return { events: [], nextBefore: null };
    const perType = Math.max(1, Math.min(limit + 1, Math.floor(budget / mergedTypes.length)));
    // One statement per type, in one batch (one round trip): D1 refuses compound SELECTs of more than a few terms.
    const streams = await db.batch<Row>(
      mergedTypes.map((t) =>
        db
          .prepare(
            `SELECT ${COLUMNS} FROM events e INDEXED BY events_type
             WHERE e.event_type = ?1 AND e.id < ?2 AND e.id >= ?3 ORDER BY e.id DESC LIMIT ?4`,
          )
          .bind(t, bounds.high, bounds.low, perType),
      ),
    );
    const rows = streams.flatMap((stream) => allRows<Row>(stream));
    let frontier: number | null = null;
    for (const stream of streams) {
      const streamRows = allRows<Row>(stream);
      if (streamRows.length === perType) frontier = Math.max(frontier ?? 0, streamRows[streamRows.length - 1]!.id);
    }
    const merged = rows.filter((r) => frontier === null || r.id >= frontier).sort((a, b) => b.id - a.id);
    return finish(merged, frontier);
  }

  const index = types.kind === "exact" ? "events_type" : indexedOutcome ? "events_failed" : null;
  const bounds = await idBounds(db, filter, options.before, index === null && hasResidual);
  if (bounds.high <= bounds.low) return { events: [], nextBefore: null };

  const params = new Params();
  const drivingTerm = (p: Params) =>
    index === "events_type"
      ? `e.event_type = ${p.add((types as { type: string }).type)}`
      : `${FAILED_INDEX_TERM} AND e.outcome_result = ${p.add(filter.outcome)}`;
  const residual = residualConditions(filter, params, { outcome: index === "events_failed" });
  if (types.kind === "prefix") residual.where.push(`e.event_type >= ${params.add(types.from)}`, `e.event_type < ${params.add(types.to)}`);
  const joins = residual.joins.join(" ");
  // Each join is one more row read per candidate row.
  const perCandidate = 1 + residual.joins.length;
  const cap = jsFilter ? budget : limit + 1;

  let rows: Row[];
  let examinedDownTo: number | null = null;
  if (index !== null && hasResidual) {
    // The newest `entries` index entries are the candidates (a co-routine, read in id order: the walk stops as soon
    // as the page is full); each candidate's row is then read and judged. When the page stays short, the id of the
    // last candidate says where to continue.
    const entries = Math.max(1, Math.floor(budget / (2 + perCandidate)));
    const candidates = (p: Params) =>
      `SELECT e.id FROM events e INDEXED BY ${index} WHERE ${drivingTerm(p)} AND e.id < ${p.add(bounds.high)} AND e.id >= ${p.add(bounds.low)}
       ORDER BY e.id DESC LIMIT ${p.add(entries)}`;
    const sql = `SELECT ${COLUMNS} FROM (${candidates(params)}) c JOIN events e ON e.id = c.id ${joins}
                 ${residual.where.length > 0 ? `WHERE ${residual.where.join(" AND ")}` : ""} ORDER BY c.id DESC LIMIT ${params.add(cap)}`;
    rows = (await db.prepare(sql).bind(...params.values).all<Row>()).results;
    if (rows.length < cap) {
      const floorParams = new Params();
      const floor = await db
        .prepare(`SELECT min(id) AS id, count(*) AS n FROM (${candidates(floorParams)})`)
        .bind(...floorParams.values)
        .first<{ id: number | null; n: number }>();
      // Every candidate was judged: continue below the last one, unless there were fewer than asked (the end).
      examinedDownTo = floor && floor.n === entries && floor.id !== null && floor.id > bounds.low ? floor.id : null;
    }
  } else {
    let low = bounds.low;
    if (hasResidual) {
      // Ids are dense: a window of n ids is at most n rows.
      low = Math.max(bounds.low, bounds.high - Math.floor(budget / perCandidate));
      examinedDownTo = low > bounds.low ? low : null;
    }
    const where = [...(index !== null ? [drivingTerm(params)] : []), `e.id < ${params.add(bounds.high)}`, `e.id >= ${params.add(low)}`, ...residual.where];
    const from = `events e ${index ? `INDEXED BY ${index}` : "NOT INDEXED"} ${joins}`;
    rows = (
      await db
        .prepare(`SELECT ${COLUMNS} FROM ${from} WHERE ${where.join(" AND ")} ORDER BY e.id DESC LIMIT ${params.add(cap)}`)
        .bind(...params.values)
        .all<Row>()
    ).results;
  }
  // A JS filter saw every row the SQL one let through; if the SQL cap stopped it, it saw down to the last row.
  const sawDownTo = jsFilter && rows.length === cap ? rows[rows.length - 1]!.id : examinedDownTo;
  if (!jsFilter) return finish(rows, sawDownTo);
  const texts = await loadTexts(db, rows);
  return finish(rows.filter((r) => hasTarget(texts.get(r.id) ?? null, filter.targetId!)), sawDownTo, texts);
}

/** The id range a filter's time range covers now: [low, high), high just above the newest event. */
export async function eventIdRange(db: D1Database, filter: EventFilter): Promise<Bounds> {
  return idBounds(db, filter, null, true);
}

/** Most event ids a count (a replay's dry run) looks at: the newest this many of its range. */
export const COUNT_MAX_ROWS = 1_000_000;

export interface EventHistogram {
  /** Matching events per (type, outcome): what destination filters are judged on. */
  groups: Array<{ eventType: string; outcomeResult: string | null; count: number }>;
  /** False when the range held more than `maxRows` ids and only the newest were counted. */
  complete: boolean;
  /** The id range counted. */
  range: Bounds;
}

/**
 * How many events a filter matches below `before`, per (type, outcome), in one grouped query over at most
 * `maxRows` ids (each read once, plus one outbox lookup each when `forward` is filtered). The target filter is
 * not supported here (it needs every payload).
 */
export async function countEvents(db: D1Database, filter: EventFilter, options: { before: number | null; maxRows?: number }): Promise<EventHistogram> {
  const maxRows = options.maxRows ?? COUNT_MAX_ROWS;
  const bounds = await idBounds(db, filter, options.before, true);
  const low = Math.max(bounds.low, bounds.high - maxRows);
  if (bounds.high <= bounds.low) return { groups: [], complete: true, range: bounds };
  const params = new Params();
  const residual = residualConditions(filter, params, {});
  const types = typeFilter(filter.type);
  if (types.kind === "exact") residual.where.push(`e.event_type = ${params.add(types.type)}`);
  if (types.kind === "prefix") residual.where.push(`e.event_type >= ${params.add(types.from)}`, `e.event_type < ${params.add(types.to)}`);
  const where = [`e.id < ${params.add(bounds.high)}`, `e.id >= ${params.add(low)}`, ...residual.where];
  const { results } = await db
    .prepare(
      `SELECT e.event_type, e.outcome_result, count(*) AS n FROM events e ${residual.joins.join(" ")}
       WHERE ${where.join(" AND ")} GROUP BY e.event_type, e.outcome_result`,
    )
    .bind(...params.values)
    .all<{ event_type: string; outcome_result: string | null; n: number }>();
  return {
    groups: results.map((r) => ({ eventType: r.event_type, outcomeResult: r.outcome_result, count: r.n })),
    complete: low === bounds.low,
    range: { low, high: bounds.high },
  };
}
