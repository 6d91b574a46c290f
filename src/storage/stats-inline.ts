/**
 * Inline hook stats (GET /admin/api/stats/inline, docs/operations.md "Stats"): per hook type over a window, how
 * many calls, what they decided, what decided them, which fallbacks fired and how fast they were answered —
 * counted in the Worker from the audit rows (inline_call_batches, ./inline-calls.ts), since the calls live in a
 * JSON array per row and SQL could only count rows.
 *
 * What it reads: per type, through the one index inline_call_batches_type_time (hook_type, last_received_at), the
 * window's newest STATS_ROWS_PER_TYPE rows (plus one, to know whether there were more), all types in one round trip:
 * at most 6 × (STATS_ROWS_PER_TYPE + 1) rows whatever the table holds. A row carries up to 100 calls
 * (src/storage/inline-call-buffer.ts), so under load that is a type's newest ~10,000 calls; when the window holds
 * more rows than that, the figures are over the newest ones and say so (`complete: false`, `oldestCall`).
 */
import type { InlineHookType } from "../okta/inline/common";
import { INLINE_HOOK_TYPES } from "../okta/inline/common";
import { allRows } from "./d1";
import { decodeCalls, MAX_BATCH_SPAN_MS, type InlineCallRecord } from "./inline-calls";

/** Audit rows read per type for one answer (each holds up to 100 calls). */
export const STATS_ROWS_PER_TYPE = 100;

export interface NearestRankLatency {
  p50: number;
  p95: number;
  p99: number;
  /** Calls the percentiles are over. */
  sample: number;
}

export interface InlineTypeStats {
  type: InlineHookType;
  /** Calls counted: all of the window's when `complete`, else those of its newest STATS_ROWS_PER_TYPE rows. */
  calls: number;
  complete: boolean;
  /** Epoch ms of the oldest call counted; null without calls. */
  oldestCall: number | null;
  /** Most first; ties by name. */
  decisions: Array<{ decision: string; count: number }>;
  /** `decidedBy` up to its first `:` — rules, handler, default, fallback, repeat. */
  decidedBy: Array<{ group: string; count: number }>;
  fallbacks: Array<{ reason: string; count: number }>;
  latencyMs: NearestRankLatency | null;
}

/** Nearest-rank percentiles (the ceil(q·n)-th smallest value) of `values`; null when empty. */
export function nearestRank(values: readonly number[]): NearestRankLatency | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), sample: sorted.length };
}

function counted<K extends string>(key: K, tally: Map<string, number>): Array<Record<K, string> & { count: number }> {
  return [...tally]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, count]) => ({ [key]: name, count }) as Record<K, string> & { count: number });
}

const bump = (tally: Map<string, number>, name: string) => tally.set(name, (tally.get(name) ?? 0) + 1);

/** The group of a `decidedBy` value: `rules:r1,r2` → rules, `repeat:handler` → repeat, `handler` → handler. */
export function decidedByGroup(decidedBy: string): string {
  const colon = decidedBy.indexOf(":");
  return colon === -1 ? decidedBy : decidedBy.slice(0, colon);
}

/** The figures of one type's calls. Pure. */
export function summarizeInlineCalls(type: InlineHookType, calls: readonly InlineCallRecord[], complete: boolean): InlineTypeStats {
  const decisions = new Map<string, number>();
  const groups = new Map<string, number>();
  const fallbacks = new Map<string, number>();
  let oldestCall: number | null = null;
  for (const call of calls) {
    bump(decisions, call.decision);
    bump(groups, decidedByGroup(call.decidedBy));
    if (call.fallbackReason !== null) bump(fallbacks, call.fallbackReason);
    if (oldestCall === null || call.receivedAt < oldestCall) oldestCall = call.receivedAt;
  }
  return {
    type,
    calls: calls.length,
    complete,
    oldestCall,
    decisions: counted("decision", decisions),
    decidedBy: counted("group", groups),
    fallbacks: counted("reason", fallbacks),
    latencyMs: nearestRank(calls.map((c) => c.latencyMs)),
  };
}

/** Per type (every type, or the one given), the calls received in [from, to). */
export async function inlineCallStats(db: D1Database, window: { from: number; to: number; type?: InlineHookType }): Promise<InlineTypeStats[]> {
  const types = window.type ? [window.type] : INLINE_HOOK_TYPES;
  const results = await db.batch(
    types.map((type) =>
      db
        .prepare(
          // A row whose latest call is at or after `to` may hold earlier calls, but at most MAX_BATCH_SPAN_MS earlier.
          `SELECT calls FROM inline_call_batches
           WHERE hook_type = ?1 AND last_received_at >= ?2 AND last_received_at < ?3 AND first_received_at < ?4
           ORDER BY last_received_at DESC, id DESC
           LIMIT ?5`,
        )
        .bind(type, window.from, window.to + MAX_BATCH_SPAN_MS, window.to, STATS_ROWS_PER_TYPE + 1),
    ),
  );
  return types.map((type, i) => {
    const rows = allRows<{ calls: string }>(results[i]!);
    const complete = rows.length <= STATS_ROWS_PER_TYPE;
    const calls = rows
      .slice(0, STATS_ROWS_PER_TYPE)
      .flatMap((row) => decodeCalls(type, row.calls))
      .filter((call) => call.receivedAt >= window.from && call.receivedAt < window.to);
    return summarizeInlineCalls(type, calls, complete);
  });
}
