/**
 * The inline hook audit log (table inline_call_batches, migrations/0005_inline_call_batches.sql): calls are written
 * many to a row, by src/storage/inline-call-buffer.ts, because a D1 row per call would cost more than the call.
 *
 * The caller passes only the shape of a decision (see summarizeResponse in src/okta/inline/outcomes.ts): no
 * password, OTP, token or claim value ever reaches this table.
 *
 * `listInlineCalls` is the one reader of calls: newest first, narrowed by type and time (and, optionally, by a
 * predicate on the decoded call), a page at a time with a keyset cursor, reading at most MAX_BATCH_ROWS_PER_PAGE rows
 * per type per page whatever the table holds (with `to`, the index range also walks the rows ending within
 * MAX_BATCH_SPAN_MS after it: the index does not hold first_received_at to skip them). The stats
 * (./stats-inline.ts) read rows through `decodeCalls`. "Newest first"
 * is by row, then by call within a row: rows are ordered by their latest call, so calls of rows written by
 * different isolates in the same few seconds may interleave.
 */
import type { InlineHookType } from "../okta/inline/common";
import { INLINE_HOOK_TYPES } from "../okta/inline/common";
import { allRows } from "./d1";

export interface InlineCallRecord {
  hookType: InlineHookType;
  requestType: string | null;
  oktaRequestId: string | null;
  eventId: string | null;
  decision: string;
  decidedBy: string;
  fallbackReason: string | null;
  commands: string[];
  status: number;
  latencyMs: number;
  /** Epoch ms the request arrived. */
  receivedAt: number;
}

/** A row never spans more than this between its first and last call (so a time search bounds its index range). */
export const MAX_BATCH_SPAN_MS = 60_000;
/** Rows read per type for one page of listInlineCalls. */
export const MAX_BATCH_ROWS_PER_PAGE = 20;
/** Largest page of listInlineCalls. */
export const MAX_CALLS_PER_PAGE = 1000;

/** A call as stored in a row's JSON array: the type is the row's, null fields are left out. */
type StoredCall = Partial<Omit<InlineCallRecord, "hookType">> & { receivedAt: number };

function toStored(call: InlineCallRecord): StoredCall {
  const stored: StoredCall = { receivedAt: call.receivedAt, decision: call.decision, decidedBy: call.decidedBy };
  if (call.requestType !== null) stored.requestType = call.requestType;
  if (call.oktaRequestId !== null) stored.oktaRequestId = call.oktaRequestId;
  if (call.eventId !== null) stored.eventId = call.eventId;
  if (call.fallbackReason !== null) stored.fallbackReason = call.fallbackReason;
  if (call.commands.length > 0) stored.commands = call.commands;
  stored.status = call.status;
  stored.latencyMs = call.latencyMs;
  return stored;
}

function fromStored(hookType: InlineHookType, stored: StoredCall): InlineCallRecord {
  return {
    hookType,
    requestType: stored.requestType ?? null,
    oktaRequestId: stored.oktaRequestId ?? null,
    eventId: stored.eventId ?? null,
    decision: stored.decision ?? "",
    decidedBy: stored.decidedBy ?? "",
    fallbackReason: stored.fallbackReason ?? null,
    commands: stored.commands ?? [],
    status: stored.status ?? 0,
    latencyMs: stored.latencyMs ?? 0,
    receivedAt: stored.receivedAt,
  };
}

/** `calls` (all of `hookType`) cut into runs that each span at most MAX_BATCH_SPAN_MS, oldest first. */
export function splitBySpan(calls: readonly InlineCallRecord[]): InlineCallRecord[][] {
  const sorted = [...calls].sort((a, b) => a.receivedAt - b.receivedAt);
  const runs: InlineCallRecord[][] = [];
  for (const call of sorted) {
    const run = runs.at(-1);
    if (run && call.receivedAt - run[0]!.receivedAt <= MAX_BATCH_SPAN_MS) run.push(call);
    else runs.push([call]);
  }
  return runs;
}

/** Writes `calls` of one hook type: one row (two with its index entry), more only if they span over a minute. */
export async function insertInlineCallBatch(db: D1Database, hookType: InlineHookType, calls: readonly InlineCallRecord[]): Promise<void> {
  if (calls.length === 0) return;
  const statements = splitBySpan(calls).map((run) =>
    db
      .prepare(
        `INSERT INTO inline_call_batches (hook_type, first_received_at, last_received_at, call_count, calls)
         VALUES (?1, ?2, ?3, ?4, ?5)`,
      )
      .bind(hookType, run[0]!.receivedAt, run.at(-1)!.receivedAt, run.length, JSON.stringify(run.map(toStored))),
  );
  if (statements.length === 1) await statements[0]!.run();
  else await db.batch(statements);
}

// ---- reading ----------------------------------------------------------------------------------------------------

/** Where a page ended: the row (by its latest call and id) and how many of its calls (newest first) were returned. */
export interface InlineCallCursor {
  lastReceivedAt: number;
  batchId: number;
  taken: number;
}

export interface InlineCallQuery {
  type?: InlineHookType;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Calls wanted, 1 – MAX_CALLS_PER_PAGE. A page may hold fewer and still have a cursor (rows read are bounded). */
  limit: number;
  cursor?: InlineCallCursor;
  /** Only calls this accepts (applied to the decoded calls of the rows read: it narrows the page, not the rows read). */
  match?: (call: InlineCallRecord) => boolean;
}

export interface InlineCallPage {
  calls: InlineCallRecord[];
  /** Pass back for the next page; null when there is nothing older. */
  cursor: InlineCallCursor | null;
}

/** The cursor as an opaque token for an API ("<lastReceivedAt>.<batchId>.<taken>"). */
export function encodeInlineCallCursor(cursor: InlineCallCursor): string {
  return `${cursor.lastReceivedAt}.${cursor.batchId}.${cursor.taken}`;
}

/** The cursor in `token`, or null when it is not one encodeInlineCallCursor made. */
export function decodeInlineCallCursor(token: string): InlineCallCursor | null {
  const match = /^(\d{1,16})\.(\d{1,16})\.(\d{1,6})$/.exec(token);
  if (!match) return null;
  const [lastReceivedAt, batchId, taken] = match.slice(1).map(Number) as [number, number, number];
  if (!Number.isSafeInteger(lastReceivedAt) || !Number.isSafeInteger(batchId)) return null;
  return { lastReceivedAt, batchId, taken };
}

interface BatchRow {
  id: number;
  hook_type: InlineHookType;
  last_received_at: number;
  calls: string;
}

const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

function rowsStatement(db: D1Database, type: InlineHookType, query: InlineCallQuery): D1PreparedStatement {
  const from = query.from ?? 0;
  const to = query.to ?? FAR_FUTURE;
  const cursorLast = query.cursor?.lastReceivedAt ?? FAR_FUTURE;
  const cursorId = query.cursor?.batchId ?? FAR_FUTURE;
  // Rows whose latest call is at or after `to` may still hold earlier calls, but at most MAX_BATCH_SPAN_MS earlier.
  // The cursor bounds the index range too: SQLite does not start an index range at a row value, so without it a
  // page deep in the results would walk (and pay for) every entry above the cursor again.
  const lastBelow = Math.min(FAR_FUTURE, to + MAX_BATCH_SPAN_MS, cursorLast + 1);
  return db
    .prepare(
      `SELECT id, hook_type, last_received_at, calls FROM inline_call_batches
       WHERE hook_type = ?1 AND last_received_at >= ?2 AND last_received_at < ?3 AND first_received_at < ?4
         AND (last_received_at, id) <= (?5, ?6)
       ORDER BY last_received_at DESC, id DESC
       LIMIT ?7`,
    )
    .bind(type, from, lastBelow, to, cursorLast, cursorId, MAX_BATCH_ROWS_PER_PAGE);
}

/** Newest first: by latest call, then id (the index's own order). */
function newerRowFirst(a: BatchRow, b: BatchRow): number {
  return b.last_received_at - a.last_received_at || b.id - a.id;
}

/** The calls of a row's `calls` column, as written (oldest first). */
export function decodeCalls(hookType: InlineHookType, text: string): InlineCallRecord[] {
  return (JSON.parse(text) as StoredCall[]).map((call) => fromStored(hookType, call));
}

/** A row's calls, newest first (ties: the later written first), as a reader pages through them. */
function callsOf(row: BatchRow): InlineCallRecord[] {
  return decodeCalls(row.hook_type, row.calls)
    .map((call, index) => ({ call, index }))
    .sort((a, b) => b.call.receivedAt - a.call.receivedAt || b.index - a.index)
    .map(({ call }) => call);
}

/**
 * One page of inline hook calls, newest first, narrowed by type and [from, to). Reads at most
 * MAX_BATCH_ROWS_PER_PAGE rows per type (all six types in one round trip when no type is given), so a page can come
 * back shorter than `limit` — even empty — with a cursor: keep paging while the cursor is not null. `match` skips
 * calls without changing what is read, so a rare match makes short pages, never more rows read.
 */
export async function listInlineCalls(db: D1Database, query: InlineCallQuery): Promise<InlineCallPage> {
  const limit = Math.min(MAX_CALLS_PER_PAGE, Math.max(1, Math.floor(query.limit)));
  const types = query.type ? [query.type] : INLINE_HOOK_TYPES;
  const results = await db.batch(types.map((type) => rowsStatement(db, type, query)));
  const perType = results.map((result) => allRows<BatchRow>(result));
  // Merged, a type's rows can only be trusted down to its last row read when that type had more to give.
  let floor: BatchRow | undefined;
  for (const rows of perType) {
    if (rows.length === MAX_BATCH_ROWS_PER_PAGE) {
      const last = rows.at(-1)!;
      if (!floor || newerRowFirst(last, floor) < 0) floor = last;
    }
  }
  const rows = perType
    .flat()
    .sort(newerRowFirst)
    .filter((row) => !floor || newerRowFirst(row, floor) <= 0);

  const from = query.from ?? 0;
  const to = query.to ?? FAR_FUTURE;
  const calls: InlineCallRecord[] = [];
  let end: InlineCallCursor | null = null;
  for (const [position, row] of rows.entries()) {
    const rowCalls = callsOf(row);
    const resumeAt = isCursorRow(row, query.cursor) ? query.cursor!.taken : 0;
    for (let i = resumeAt; i < rowCalls.length; i++) {
      const call = rowCalls[i]!;
      if (call.receivedAt < from || call.receivedAt >= to || (query.match && !query.match(call))) continue;
      calls.push(call);
      if (calls.length === limit) {
        const more = i + 1 < rowCalls.length || position + 1 < rows.length || floor !== undefined;
        return { calls, cursor: more ? { lastReceivedAt: row.last_received_at, batchId: row.id, taken: i + 1 } : null };
      }
    }
    end = { lastReceivedAt: row.last_received_at, batchId: row.id, taken: rowCalls.length };
  }
  // Every row read is used up: go on below the last one if a type may have more.
  return { calls, cursor: floor === undefined ? null : end };
}

function isCursorRow(row: BatchRow, cursor: InlineCallCursor | undefined): boolean {
  return cursor !== undefined && row.id === cursor.batchId && row.last_received_at === cursor.lastReceivedAt;
}
