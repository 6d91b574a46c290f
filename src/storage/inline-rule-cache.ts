/**
 * The isolate's copy of the inline hook rules and of looked-up values, so a hook call normally makes no D1 round
 * trip (docs/inline-hooks.md). Both expire after INLINE_RULES_CACHE_TTL_SECONDS (0 disables caching); the admin API
 * drops them at once after a change, so the isolate that served the change sees it immediately and the others within
 * the TTL. Concurrent misses share one D1 read, and a copy (of the rules or of a value) past half its TTL is renewed
 * in the background, so a busy isolate's calls never wait for D1.
 */
import type { InlineHookType } from "../okta/inline/common";
import type { Lookup } from "../okta/inline/rules/evaluate";
import type { Rule } from "../okta/inline/rules/schema";
import { getLookupValue, listRules } from "./inline-rules";
import { baseDatabase, storageDatabase } from "./d1";

/** Bound on cached lookup values per isolate (the cache is simply emptied when it is reached). */
export const MAX_CACHED_LOOKUPS = 10_000;

interface RulesSnapshot {
  byType: Map<InlineHookType, Rule[]>;
  loadedAt: number;
}

interface IsolateCache {
  snapshot?: RulesSnapshot;
  pending?: Promise<RulesSnapshot>;
  lookups: Map<string, { value: unknown; at: number }>;
  /** Lookup values being renewed in the background (so a hot key is read once, not by every call meanwhile). */
  renewing: Set<string>;
  /** Bumped by every invalidation, so a read that started before a change is not kept as fresh. */
  generation: number;
}

const caches = new WeakMap<D1Database, IsolateCache>();

function cacheFor(db: D1Database): IsolateCache {
  // Keyed on the binding itself, not on the per-request wrapper around it (src/storage/d1.ts).
  const key = baseDatabase(db);
  let cache = caches.get(key);
  if (!cache) {
    cache = { lookups: new Map(), renewing: new Set(), generation: 0 };
    caches.set(key, cache);
  }
  return cache;
}

async function loadSnapshot(db: D1Database, now: number): Promise<RulesSnapshot> {
  const byType = new Map<InlineHookType, Rule[]>();
  for (const rule of await listRules(db)) {
    if (!rule.enabled) continue;
    const list = byType.get(rule.hookType) ?? [];
    list.push(rule);
    byType.set(rule.hookType, list);
  }
  return { byType, loadedAt: now };
}

/**
 * Enabled rules of `type`, in priority order. A copy younger than the TTL is used as it is; past half the TTL, a call
 * that can leave work running after its answer (`waitUntil`) also starts reading D1 again in the background, so an
 * isolate that keeps receiving calls renews its copy before it expires and no call waits for D1 — the copy in use
 * is still never older than the TTL. Only a copy past the TTL (or none) makes the call wait for D1.
 */
export async function cachedRules(
  db: D1Database,
  type: InlineHookType,
  ttlMs: number,
  now: number,
  waitUntil?: (work: Promise<unknown>) => void,
): Promise<Rule[]> {
  const cache = cacheFor(db);
  let snapshot = cache.snapshot;
  if (snapshot && now - snapshot.loadedAt < ttlMs) {
    if (waitUntil && !cache.pending && now - snapshot.loadedAt >= ttlMs / 2) {
      // A failed renewal is no error of this call: the copy stays until its TTL, and the next call tries again.
      waitUntil(refreshSnapshot(afterAnswer(db), cache, now).catch(() => undefined));
    }
  } else {
    snapshot = await refreshSnapshot(db, cache, now);
  }
  return snapshot.byType.get(type) ?? [];
}

/**
 * The binding for a read that runs after the call's answer: not the request's metering wrapper, whose log line is
 * written by then (as the inline audit's writes, ./inline-call-buffer.ts).
 */
function afterAnswer(db: D1Database): D1Database {
  return storageDatabase(baseDatabase(db));
}

/** Read the rules again (concurrent reads share one), and keep them unless an admin change came meanwhile. */
async function refreshSnapshot(db: D1Database, cache: IsolateCache, now: number): Promise<RulesSnapshot> {
  const generation = cache.generation;
  if (!cache.pending) {
    const pending = loadSnapshot(db, now).finally(() => {
      if (cache.pending === pending) cache.pending = undefined;
    });
    cache.pending = pending;
  }
  const snapshot = await cache.pending;
  if (cache.generation === generation) cache.snapshot = snapshot;
  return snapshot;
}

/**
 * Looked-up values, cached like the rules: younger than the TTL, a value is used as it is, and past half the TTL a
 * call that can leave work after its answer (`waitUntil`) also renews it in the background. A value read while an
 * admin change came is not kept.
 */
export function cachedLookup(db: D1Database, ttlMs: number, now: number, waitUntil?: (work: Promise<unknown>) => void): Lookup {
  const cache = cacheFor(db);
  const read = async (id: string, table: string, key: string, from = db) => {
    const generation = cache.generation;
    const value = await getLookupValue(from, table, key);
    // Not kept after an admin change, nor over a value read later (a slow renewal finishing after a blocking read).
    const current = cache.lookups.get(id);
    if (cache.generation === generation && !(current && current.at > now)) {
      if (cache.lookups.size >= MAX_CACHED_LOOKUPS && !cache.lookups.has(id)) cache.lookups.clear();
      cache.lookups.set(id, { value, at: now });
    }
    return value;
  };
  return async (table, key) => {
    const id = `${table}\u0000${key}`;
    const hit = cache.lookups.get(id);
    if (!hit || now - hit.at >= ttlMs) return read(id, table, key);
    if (waitUntil && now - hit.at >= ttlMs / 2 && !cache.renewing.has(id)) {
      cache.renewing.add(id);
      const renewing = cache.renewing;
      waitUntil(
        read(id, table, key, afterAnswer(db))
          .catch(() => undefined) // the value stays until its TTL; the next call tries again
          .finally(() => renewing.delete(id)),
      );
    }
    return hit.value;
  };
}

/** After an admin change: this isolate reads D1 again on the next call. */
export function invalidateInlineRuleCache(db: D1Database): void {
  const cache = cacheFor(db);
  cache.snapshot = undefined;
  cache.pending = undefined;
  cache.generation += 1;
  cache.lookups.clear();
  cache.renewing = new Set();
}
