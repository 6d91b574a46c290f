/**
 * Event search (GET /admin/api/events, and the replay jobs that walk the same selection): newest first, keyset
 * pagination on events.id, and a bounded number of rows read per call — never OFFSET, and no index on `events`:
 * since migrations/0010 an event is one row written (its table row, keyed by uuid), so search is driven by what
 * ingest writes once per batch (per Okta delivery) instead.
 *
 * Why ids: an event's id is its batch's first_event_id plus its position in the delivery, and batches are given
 * ids and first ids in commit order (D1 runs one transaction at a time), so an event stored while someone pages has
 * a larger id than every page already read, and "id < cursor" stays correct however many events arrive. Ids may
 * have gaps (a duplicate in a delivery takes no row), never repeats.
 *
 * How a call reads (docs/storage.md "Searching events"):
 * 1. Bounds, one round trip of 1-row reads: the cursor becomes the batch holding the event below it
 *    (event_batches_first_event), a time range becomes batches through event_batches_received, widened by a
 *    clock-skew margin and, for `published`, by how late Okta may deliver; the time column itself is compared
 *    exactly later.
 * 2. The walk: candidate batches newest first, one index step each — every batch for a plain scan, `batch_types`
 *    for an exact type or a narrow prefix (each type's stream merged, one step per type), `batch_failures` for
 *    outcome FAILURE and DENY. A recursive statement adds up what each batch costs to read (its entries, its row,
 *    its outbox row, and `event_count` events, the most it holds) and stops once that reaches the budget, or once
 *    the batches walked hold surely more events than the page needs (only when nothing but the driver filters).
 * 3. The events of the walked batches, through their uuid lists (one primary-key lookup each), judged on every
 *    other condition, with their batch's facts and outbox state read once per batch. Whole batches are read, so
 *    everything at or above the lowest batch walked has been examined.
 * - The target id lives only in the payload, which is decoded in the Worker for the events of a smaller budget
 *   (PAYLOAD_SCAN_BUDGET: decoding costs CPU). A column for it would cost bytes on every event, and an index on it
 *   a row written per event, for a search that a type or a time range narrows well.
 * Every statement joins in a fixed order (batches, then json_each over their uuid list, then events by uuid,
 * through CROSS JOIN, which SQLite never reorders): nothing here can become a scan of `events`.
 * When the budget runs out before the page is full, the page holds what matched so far and `nextBefore` (the first
 * id of the lowest batch walked) says where to continue; a page can therefore be short, or empty, while more events
 * match: only `nextBefore === null` means the end.
 */
import { BATCH_EVENTS } from "./batch-events";
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
/** A type prefix covering at most this many types walks each type's batches (merged); a broader one scans batches. */
export const MAX_MERGED_TYPES = 8;
/**
 * How far apart the receiving time of an ingest request and its commit (which gives its events their ids) can
 * be, clocks of two Workers included: requests commit within seconds (Okta gives up on a hook call after 3 s).
 */
export const CLOCK_SKEW_MS = 60_000;
/**
 * How long after `published` Okta is assumed to deliver an event: a published-time search looks at events
 * received up to this long after its `until` (their batches are read whole: a larger margin means more rows read
 * at the top of the range). Okta delivers event hooks within seconds; an event delivered later than this is found by
 * a received-time search.
 */
export const PUBLISHED_LATENESS_MS = 2 * 60_000;

/** The outcomes `batch_failures` holds (migrations/0010). */
const INDEXED_OUTCOMES = ["FAILURE", "DENY"];

/**
 * What reading a batch costs, in D1 rows read (D1 counts each element json_each yields, and each row a recursive
 * statement queues, as a row read): a walk step reads one index entry per stream, the batch's row and its queue
 * row; reading its events then costs its entry in the list of batches, its row again and its outbox row, and two
 * rows per event (its uuid in the list, its row).
 */
const WALK_ROWS = 2;
const BATCH_ROWS = 3;
const ROWS_PER_EVENT = 2;

const COLUMNS = `e.id, e.uuid, e.event_type, e.published, e.actor_id, e.actor_alternate_id, e.outcome_result,
  e.severity, e.batch_id, e.received_at, e.forward, e.payload_offset, e.payload_bytes, b.okta_org, b.event_hook_id,
  o.batch_id IS NOT NULL AS pending`;

/** The columns a search reads: the event's, its batch's facts, and whether its batch is still in the outbox. */
type Row = Omit<EventRow, "envelope_event_id" | "payload_data"> & { pending: number };

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

/**
 * Conditions on an event `e`, its batch `b` and the batch's outbox row `o` (LEFT JOINed), other than the type and
 * the driving index's own.
 */
function eventConditions(filter: EventFilter, params: Params, skip: { outcome?: boolean }): string[] {
  const where: string[] = [];
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
  if (filter.org !== undefined) where.push(`b.okta_org = ${params.add(filter.org)}`);
  if (filter.forward !== undefined) {
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
  return where;
}

export interface Bounds {
  /** Lowest id that can match (inclusive). */
  low: number;
  /** Every matching id is below this. */
  high: number;
}

/** Bounds in event ids and the batches that can hold them: ids [low, high) lie in batches lowBatch … highBatch. */
interface Range extends Bounds {
  lowBatch: number;
  /** Inclusive; below lowBatch when nothing can match. */
  highBatch: number;
}

/**
 * The range the filter's time range and the cursor leave: one round trip of 1-row index reads. Both ends are
 * whole batches but for the cursor's: the cursor's batch may be only partly below it (its events are then compared
 * with the cursor exactly).
 */
async function searchRange(db: D1Database, filter: EventFilter, before: number | null | undefined): Promise<Range> {
  const time = filter.time;
  const sinceReceived = time?.since === undefined ? undefined : time.since - CLOCK_SKEW_MS;
  const untilReceived =
    time?.until === undefined ? undefined : time.until + (time.field === "published" ? PUBLISHED_LATENESS_MS : CLOCK_SKEW_MS);
  type Found = { id: number; v: number };
  const statements: D1PreparedStatement[] = [
    // The newest batch: the next event id is one past its range (as ingest computes it).
    db.prepare("SELECT id, first_event_id + event_count AS v FROM event_batches WHERE id = (SELECT max(id) FROM event_batches)"),
  ];
  const slots: Record<string, number> = {};
  if (before !== null && before !== undefined) {
    // The batch holding the ids just below the cursor: the last one starting below it.
    slots.before = statements.push(db.prepare("SELECT id, first_event_id AS v FROM event_batches WHERE first_event_id < ?1 ORDER BY first_event_id DESC LIMIT 1").bind(before)) - 1;
  }
  if (sinceReceived !== undefined) {
    // The last batch received before `since` minus the skew: every event received from `since` on was committed
    // after it (a request commits well within CLOCK_SKEW_MS of its start), so it is in this batch or a later one.
    slots.since =
      statements.push(
        db.prepare("SELECT id, first_event_id AS v FROM event_batches WHERE received_at < ?1 ORDER BY received_at DESC LIMIT 1").bind(sinceReceived),
      ) - 1;
  }
  if (untilReceived !== undefined) {
    // The first batch received after `until` plus the margin: every event received before `until` was committed
    // before it, so it is in an earlier batch.
    slots.until =
      statements.push(
        db.prepare("SELECT id, first_event_id AS v FROM event_batches WHERE received_at > ?1 ORDER BY received_at LIMIT 1").bind(untilReceived),
      ) - 1;
  }
  const results = await db.batch<Found>(statements);
  const found = (slot: number | undefined): Found | null | undefined => (slot === undefined ? undefined : (allRows<Found>(results[slot])[0] ?? null));
  const newest = found(0);
  let high = newest?.v ?? 1;
  let highBatch = newest?.id ?? 0;
  const cursor = found(slots.before);
  if (cursor !== undefined) {
    high = Math.min(high, before!);
    highBatch = Math.min(highBatch, cursor?.id ?? 0);
  }
  const until = found(slots.until);
  if (until) {
    high = Math.min(high, until.v);
    highBatch = Math.min(highBatch, until.id - 1);
  }
  const since = found(slots.since);
  return { low: since?.v ?? 0, high, lowBatch: since?.id ?? 0, highBatch };
}

const isEmpty = (range: Range) => range.high <= range.low || range.highBatch < range.lowBatch;

/** The event types starting with a prefix (one index step each, at most `limit`). */
async function typesInRange(db: D1Database, from: string, to: string, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `WITH RECURSIVE t(type) AS (
         SELECT (SELECT event_type FROM batch_types WHERE event_type >= ?1 AND event_type < ?2 ORDER BY event_type LIMIT 1)
         UNION ALL
         SELECT (SELECT event_type FROM batch_types WHERE event_type > t.type AND event_type < ?2 ORDER BY event_type LIMIT 1) FROM t
         WHERE t.type IS NOT NULL LIMIT ?3)
       SELECT type FROM t WHERE type IS NOT NULL`,
    )
    .bind(from, to, limit)
    .all<{ type: string }>();
  return results.map((r) => r.type);
}

/**
 * Which batches a walk steps through: every batch, the batches holding some event of a few types (`batch_types`,
 * one stream per type, merged), or those holding some event of a failed outcome (`batch_failures`).
 */
type Driver = { kind: "scan" } | { kind: "types"; types: readonly string[] } | { kind: "outcome"; outcome: string };

/** Index entries one step of the walk reads: one per stream. */
const streams = (driver: Driver) => (driver.kind === "types" ? driver.types.length : 1);

/**
 * The newest candidate batch id `op` (< or <=) `x` and not below `low` (SQL parameters); NULL or 0 when none.
 * One index step per stream: each stream's newest entry below x, the largest of them.
 */
function nextBatch(driver: Driver, params: Params, x: string, op: "<" | "<=", low: string): string {
  switch (driver.kind) {
    case "scan":
      return `(SELECT id FROM event_batches WHERE id ${op} ${x} AND id >= ${low} ORDER BY id DESC LIMIT 1)`;
    case "outcome":
      return `(SELECT batch_id FROM batch_failures WHERE outcome_result = ${params.add(driver.outcome)} AND batch_id ${op} ${x}
               AND batch_id >= ${low} ORDER BY batch_id DESC LIMIT 1)`;
    case "types": {
      const heads = driver.types.map(
        (t) => `(SELECT batch_id FROM batch_types WHERE event_type = ${params.add(t)} AND batch_id ${op} ${x} AND batch_id >= ${low}
                 ORDER BY batch_id DESC LIMIT 1)`,
      );
      return heads.length === 1 ? heads[0]! : `max(${heads.map((h) => `coalesce(${h}, 0)`).join(", ")})`;
    }
  }
}

/** The driver's own condition on an event of a walked batch (a batch holds events of other types too). */
function driverCondition(driver: Driver, params: Params): string[] {
  switch (driver.kind) {
    case "scan":
      return [];
    case "outcome":
      return [`e.outcome_result = ${params.add(driver.outcome)}`];
    case "types":
      return [driver.types.length === 1 ? `e.event_type = ${params.add(driver.types[0])}` : `e.event_type IN (${driver.types.map((t) => params.add(t)).join(", ")})`];
  }
}

interface Walked {
  id: number;
  first_event_id: number;
  /** The batch's events are to be read (it is of the org and received-time range asked for). */
  wanted: number;
  /** Rows read so far, this batch included (an upper bound). */
  acc: number;
  /** Events surely matching so far, this batch included. */
  sure: number;
}

interface Walk {
  driver: Driver;
  range: Range;
  budget: number;
  /** Stop once this many events surely match; absent: the batches' events say nothing sure (other filters). */
  need?: number;
  /** Events surely matching per wanted batch: "json_array_length(b.uuids)" (all of them), "1" (some event). */
  surePerBatch?: string;
  org?: string;
  /**
   * A received-time range: ingest gives every event its batch's `received_at`, so a batch received outside it holds
   * no match and costs its walk step only.
   */
  received?: { since?: number; until?: number };
  /** The batches' payloads are read too (a target search): one more row per batch. */
  payloadRows?: boolean;
}

/**
 * The candidate batches newest first (from the top of the range), while the rows they cost stay under the budget
 * (the last one may pass it) and, when it is known, until they surely hold `need` matching events. One statement:
 * a recursive walk, one index step per stream and one batch row per step.
 */
async function walkBatches(db: D1Database, walk: Walk): Promise<Walked[]> {
  const params = new Params();
  const { range, driver } = walk;
  const low = params.add(range.lowBatch);
  const top = params.add(range.highBatch);
  const budget = params.add(walk.budget);
  const judged: string[] = [];
  if (walk.org !== undefined) judged.push(`b.okta_org IS ${params.add(walk.org)}`);
  if (walk.received?.since !== undefined) judged.push(`b.received_at >= ${params.add(walk.received.since)}`);
  if (walk.received?.until !== undefined) judged.push(`b.received_at < ${params.add(walk.received.until)}`);
  const wanted = judged.length === 0 ? "1" : `(${judged.join(" AND ")})`;
  // A batch whose events are not read (another org, received outside the range) costs its walk step only.
  const cost = `(${streams(driver) + WALK_ROWS} + CASE WHEN ${wanted} THEN ${BATCH_ROWS + (walk.payloadRows ? 1 : 0)} + ${ROWS_PER_EVENT} * b.event_count ELSE 0 END)`;
  // The cursor's batch may hold events at or above the cursor: none of them is sure.
  const sure =
    walk.need === undefined
      ? "0"
      : `(CASE WHEN ${wanted} AND b.first_event_id + b.event_count <= ${params.add(range.high)} THEN ${walk.surePerBatch ?? "0"} ELSE 0 END)`;
  const more = walk.need === undefined ? "" : `AND w.sure < ${params.add(walk.need)}`;
  const first = nextBatch(driver, params, top, "<=", low);
  const next = nextBatch(driver, params, "w.id", "<", low);
  const sql = `WITH RECURSIVE w(id, first_event_id, wanted, acc, sure) AS (
      SELECT b.id, b.first_event_id, ${wanted}, ${cost}, ${sure} FROM event_batches b WHERE b.id = ${first}
      UNION ALL
      SELECT b.id, b.first_event_id, ${wanted}, w.acc + ${cost}, w.sure + ${sure} FROM w CROSS JOIN event_batches b
      WHERE w.acc < ${budget} ${more} AND b.id = ${next})
    SELECT id, first_event_id, wanted, acc, sure FROM w`;
  return (await db.prepare(sql).bind(...params.values).all<Walked>()).results;
}

/**
 * The events of `batchIds` (newest batch first) below `high` that meet `where`, with their batch's facts: each
 * batch's row and outbox row once, then its events through its uuid list. The batch id is checked as ingest, fan-out
 * and retention check it (free: the row is read anyway): an event a list should ever name wrongly is not shown twice,
 * nor under another batch's org and outbox state.
 */
function batchEventsSql(batchList: string, where: readonly string[]): string {
  return `SELECT ${COLUMNS}
    FROM json_each(${batchList}) l CROSS JOIN event_batches b ON b.id = l.value LEFT JOIN forward_outbox o ON o.batch_id = b.id
    CROSS JOIN ${BATCH_EVENTS}
    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}`;
}

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
      .prepare(`SELECT p.batch_id, ${plainAsText("p.data")} AS data FROM json_each(?1) l CROSS JOIN event_payloads p ON p.batch_id = l.value`)
      .bind(JSON.stringify(batchIds))
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

function summary(r: Row, texts: Map<number, string | null> | null): EventSummary {
  const forwardState: ForwardState =
    r.forward === FORWARD.skip ? "skipped" : r.pending ? "pending" : r.forward === FORWARD.unrouted ? "unrouted" : "fanned_out";
  const event: EventSummary = {
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
    oktaOrg: r.okta_org,
    eventHookId: r.event_hook_id,
    forwardState,
  };
  if (texts) event.payload = texts.get(r.id) ?? null;
  return event;
}

/** How a filter's batches are found: an exact type, a failed outcome, a narrow prefix's types, or every batch. */
async function chooseDriver(db: D1Database, filter: EventFilter): Promise<{ driver: Driver; typeTerm: "none" | "range" } | null> {
  const types = typeFilter(filter.type);
  const indexedOutcome = filter.outcome !== undefined && INDEXED_OUTCOMES.includes(filter.outcome);
  if (types.kind === "exact") return { driver: { kind: "types", types: [types.type] }, typeTerm: "none" };
  if (indexedOutcome) return { driver: { kind: "outcome", outcome: filter.outcome! }, typeTerm: types.kind === "prefix" ? "range" : "none" };
  if (types.kind === "prefix") {
    const found = await typesInRange(db, types.from, types.to, MAX_MERGED_TYPES + 1);
    if (found.length === 0) return null;
    if (found.length <= MAX_MERGED_TYPES) return { driver: { kind: "types", types: found }, typeTerm: "none" };
    return { driver: { kind: "scan" }, typeTerm: "range" };
  }
  return { driver: { kind: "scan" }, typeTerm: "none" };
}

export async function searchEvents(db: D1Database, filter: EventFilter, options: SearchOptions): Promise<SearchResult> {
  const limit = options.limit;
  const jsFilter = filter.targetId !== undefined;
  // Reading texts costs Worker CPU (a batch's payload is inflated once for its events, each candidate's text is
  // scanned): a target search looks at fewer rows.
  const budget = Math.min(options.budget ?? SCAN_BUDGET, jsFilter ? PAYLOAD_SCAN_BUDGET : Number.MAX_SAFE_INTEGER);
  const withPayload = options.withPayload === true;
  const [chosen, range] = await Promise.all([chooseDriver(db, filter), searchRange(db, filter, options.before)]);
  if (chosen === null || isEmpty(range)) return { events: [], nextBefore: null };
  const { driver, typeTerm } = chosen;

  const params = new Params();
  const where = [`e.id < ${params.add(range.high)}`, ...driverCondition(driver, params)];
  if (typeTerm === "range") {
    const { from, to } = prefixRange(filter.type!);
    where.push(`e.event_type >= ${params.add(from)}`, `e.event_type < ${params.add(to)}`);
  }
  where.push(...eventConditions(filter, params, { outcome: driver.kind === "outcome" }));
  const received = filter.time?.field === "received" ? { since: filter.time.since, until: filter.time.until } : undefined;
  // Nothing but the driver and what the walk judges per batch (the org, a received-time range) filters: a wanted
  // batch's events surely match (all of them for a scan, at least one otherwise), so the walk stops once the page
  // is surely full.
  const onlyDriver =
    typeTerm === "none" &&
    !jsFilter &&
    filter.actor === undefined &&
    (filter.outcome === undefined || driver.kind === "outcome") &&
    filter.forward === undefined &&
    (filter.time === undefined || received !== undefined);
  const walked = await walkBatches(db, {
    driver,
    range,
    budget,
    org: filter.org,
    received,
    payloadRows: jsFilter,
    ...(onlyDriver && { need: limit + 1, surePerBatch: driver.kind === "scan" ? "json_array_length(b.uuids)" : "1" }),
  });
  const read = walked.filter((w) => w.wanted).map((w) => w.id);
  let rows: Row[] = [];
  if (read.length > 0) rows = (await db.prepare(batchEventsSql(params.add(JSON.stringify(read)), where)).bind(...params.values).all<Row>()).results;
  let texts: Map<number, string | null> | null = null;
  if (jsFilter) {
    texts = await loadTexts(db, rows);
    rows = rows.filter((r) => hasTarget(texts!.get(r.id) ?? null, filter.targetId!));
  }
  rows.sort((a, b) => b.id - a.id);

  let nextBefore: number | null;
  if (rows.length > limit) {
    rows = rows.slice(0, limit);
    nextBefore = rows[limit - 1]!.id;
  } else {
    // The walk stopped on the budget (or on a page surely full that the cursor's batch did not fill after all):
    // every batch from its lowest one up was read whole, so continue below that batch's first id. Otherwise it ran
    // out of candidates: the end.
    const last = walked.at(-1);
    const stopped = last !== undefined && (last.acc >= budget || (onlyDriver && last.sure >= limit + 1));
    nextBefore = stopped && last.id > range.lowBatch && last.first_event_id > range.low ? last.first_event_id : null;
  }
  if (withPayload && !texts) texts = await loadTexts(db, rows);
  return { events: rows.map((r) => summary(r, withPayload ? texts : null)), nextBefore };
}

/** The id range a filter's time range covers now: [low, high), high just above the newest event. */
export async function eventIdRange(db: D1Database, filter: EventFilter): Promise<Bounds> {
  const { low, high } = await searchRange(db, filter, null);
  return { low, high };
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
 * How many events a filter matches below `before`, per (type, outcome), in one grouped query over the batches
 * holding the newest `maxRows` ids of the range (whole batches: each event read once through its batch's uuid list,
 * plus its batch and outbox row once per batch). An exact type reads only the batches holding it (`batch_types`),
 * an outcome FAILURE or DENY those holding it (`batch_failures`). The target filter is not supported here (it needs
 * every payload).
 */
export async function countEvents(db: D1Database, filter: EventFilter, options: { before: number | null; maxRows?: number }): Promise<EventHistogram> {
  const maxRows = options.maxRows ?? COUNT_MAX_ROWS;
  const range = await searchRange(db, filter, options.before);
  if (isEmpty(range)) return { groups: [], complete: true, range: { low: range.low, high: range.high } };
  let { low, lowBatch } = range;
  const windowLow = range.high - maxRows;
  if (windowLow > range.low) {
    // Ids have gaps but never repeat, so `maxRows` ids hold at most `maxRows` events: count from the oldest batch
    // lying wholly in the window.
    const oldest = await db
      .prepare("SELECT id, first_event_id FROM event_batches WHERE first_event_id >= ?1 ORDER BY first_event_id LIMIT 1")
      .bind(windowLow)
      .first<{ id: number; first_event_id: number }>();
    if (!oldest || oldest.id > range.highBatch) return { groups: [], complete: false, range: { low: range.high, high: range.high } };
    ({ id: lowBatch, first_event_id: low } = oldest);
  }
  const params = new Params();
  const types = typeFilter(filter.type);
  const indexedOutcome = filter.outcome !== undefined && INDEXED_OUTCOMES.includes(filter.outcome);
  const between = (column: string) => `${column} >= ${params.add(lowBatch)} AND ${column} <= ${params.add(range.highBatch)}`;
  let from: string;
  const where: string[] = [];
  if (types.kind === "exact") {
    from = "batch_types d CROSS JOIN event_batches b ON b.id = d.batch_id";
    where.push(`d.event_type = ${params.add(types.type)}`, between("d.batch_id"));
  } else if (indexedOutcome) {
    from = "batch_failures d CROSS JOIN event_batches b ON b.id = d.batch_id";
    where.push(`d.outcome_result = ${params.add(filter.outcome)}`, between("d.batch_id"));
  } else {
    from = "event_batches b";
    where.push(between("b.id"));
  }
  where.push(`e.id < ${params.add(range.high)}`);
  if (types.kind === "exact") where.push(`e.event_type = ${params.add(types.type)}`);
  if (types.kind === "prefix") where.push(`e.event_type >= ${params.add(types.from)}`, `e.event_type < ${params.add(types.to)}`);
  where.push(...eventConditions(filter, params, {}));
  const { results } = await db
    .prepare(
      `SELECT e.event_type, e.outcome_result, count(*) AS n
       FROM ${from} LEFT JOIN forward_outbox o ON o.batch_id = b.id CROSS JOIN ${BATCH_EVENTS}
       WHERE ${where.join(" AND ")} GROUP BY e.event_type, e.outcome_result`,
    )
    .bind(...params.values)
    .all<{ event_type: string; outcome_result: string | null; n: number }>();
  return {
    groups: results.map((r) => ({ eventType: r.event_type, outcomeResult: r.outcome_result, count: r.n })),
    complete: low === range.low,
    range: { low, high: range.high },
  };
}
