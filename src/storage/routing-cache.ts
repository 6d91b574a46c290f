/**
 * The isolate's copy of every destination's filter, so the event route can tell, without a D1 read, which events
 * no destination wants: those are stored as "unrouted" and cost no outbox row and no queue message.
 *
 * Being wrong must never lose an event, so the copy carries the `destinations_version` it was read at (a counter
 * that triggers bump on every insert, delete or filter change of a destination, migrations/0004_batches.sql). The
 * ingest transaction compares it with D1's: when they differ, the batch goes to the outbox anyway and fan-out
 * routes it with the destinations as they are now. Until a copy is loaded (a new isolate), every event is treated
 * as wanted. The copy is refreshed in the background when an ingest saw a newer version, after RELOAD_AFTER_MS, and
 * at once after an admin change in this isolate.
 */
import type { DestinationFilter } from "../okta/routing";
import { baseDatabase } from "./d1";
import { DESTINATIONS_VERSION } from "./events";
import { toDestination, type DestinationRow } from "./destinations";

/** A copy older than this is not used (a safety net; the version check is what keeps it correct). */
export const RELOAD_AFTER_MS = 5 * 60_000;

export interface RoutingSnapshot {
  version: number;
  filters: DestinationFilter[];
  loadedAt: number;
}

interface IsolateRouting {
  snapshot?: RoutingSnapshot;
  loading?: Promise<void>;
  generation: number;
}

const caches = new WeakMap<D1Database, IsolateRouting>();

function cacheFor(db: D1Database): IsolateRouting {
  const key = baseDatabase(db);
  let cache = caches.get(key);
  if (!cache) {
    cache = { generation: 0 };
    caches.set(key, cache);
  }
  return cache;
}

/** The current copy, or undefined when there is none to trust (not loaded, or too old). Never reads D1. */
export function routingSnapshot(db: D1Database, now: number): RoutingSnapshot | undefined {
  const snapshot = cacheFor(db).snapshot;
  return snapshot && now - snapshot.loadedAt < RELOAD_AFTER_MS ? snapshot : undefined;
}

/** Read the destinations and the version in one round trip, and keep them (unless an invalidation came meanwhile). */
export function refreshRouting(db: D1Database, now: number): Promise<void> {
  const cache = cacheFor(db);
  if (cache.loading) return cache.loading;
  const generation = cache.generation;
  const loading = (async () => {
    const [version, destinations] = await db.batch<Record<string, unknown>>([
      db.prepare(DESTINATIONS_VERSION),
      db.prepare("SELECT * FROM destinations"),
    ]);
    const value = (version?.results[0] as { value?: number } | undefined)?.value;
    if (typeof value !== "number" || cache.generation !== generation) return;
    const filters = ((destinations?.results ?? []) as unknown as DestinationRow[]).map(toDestination);
    cache.snapshot = { version: value, filters: filters.map((d) => ({ eventTypes: d.eventTypes, conditions: d.conditions })), loadedAt: now };
  })().finally(() => {
    if (cache.loading === loading) cache.loading = undefined;
  });
  cache.loading = loading;
  return loading;
}

/** Whether the copy is behind `version` (what D1 answered during an ingest): then it is dropped. */
export function isStale(db: D1Database, version: number | null): boolean {
  const cache = cacheFor(db);
  if (version === null || cache.snapshot?.version === version) return false;
  cache.snapshot = undefined;
  return true;
}

/** After an admin change in this isolate: forget the copy (the next ingest treats every event as wanted). */
export function invalidateRoutingCache(db: D1Database): void {
  const cache = cacheFor(db);
  cache.snapshot = undefined;
  cache.loading = undefined;
  cache.generation += 1;
}
