/**
 * Inline hook rules and lookup tables (migrations/0003_inline_hooks.sql): plain functions over D1Database.
 * Definitions are stored as JSON exactly as the admin API validated them. Reading back validates them again with
 * the same schema, so a row edited by hand into something invalid is skipped rather than breaking every call.
 */
import type { InlineHookType } from "../okta/inline/common";
import { RULE_HOOK_TYPE, ruleInputSchema, type Rule, type RuleInput } from "../okta/inline/rules/schema";

interface RuleRow {
  id: string;
  hook_type: InlineHookType;
  kind: Rule["kind"];
  name: string | null;
  priority: number;
  enabled: number;
  definition: string;
  created_at: number;
  updated_at: number;
}

export type StoredRule = Rule & { hookType: InlineHookType; createdAt: number; updatedAt: number };

/** The stored row as a rule, re-validated (a row edited by hand into something invalid is skipped, not run). */
function toRule(row: RuleRow): StoredRule | null {
  let definition: unknown;
  try {
    definition = JSON.parse(row.definition);
  } catch {
    return null;
  }
  const parsed = ruleInputSchema.safeParse({
    kind: row.kind,
    ...(row.name !== null ? { name: row.name } : {}),
    priority: row.priority,
    enabled: row.enabled === 1,
    definition,
  });
  if (!parsed.success) return null;
  return { ...parsed.data, id: row.id, hookType: row.hook_type, createdAt: row.created_at, updatedAt: row.updated_at };
}

export async function listRules(db: D1Database, hookType?: InlineHookType): Promise<StoredRule[]> {
  const stmt = hookType
    ? db.prepare("SELECT * FROM inline_rules WHERE hook_type = ?1 ORDER BY hook_type, priority, id").bind(hookType)
    : db.prepare("SELECT * FROM inline_rules ORDER BY hook_type, priority, id");
  const { results } = await stmt.all<RuleRow>();
  return results.map(toRule).filter((r): r is StoredRule => r !== null);
}

export async function getRule(db: D1Database, id: string): Promise<StoredRule | null> {
  const row = await db.prepare("SELECT * FROM inline_rules WHERE id = ?1").bind(id).first<RuleRow>();
  return row ? toRule(row) : null;
}

export async function insertRule(db: D1Database, input: RuleInput, now: number): Promise<StoredRule> {
  const id = crypto.randomUUID();
  await db
    .prepare(
      `INSERT INTO inline_rules (id, hook_type, kind, name, priority, enabled, definition, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)`,
    )
    .bind(id, RULE_HOOK_TYPE[input.kind], input.kind, input.name ?? null, input.priority, input.enabled ? 1 : 0, JSON.stringify(input.definition), now)
    .run();
  return { ...input, id, hookType: RULE_HOOK_TYPE[input.kind], createdAt: now, updatedAt: now } as StoredRule;
}

/** Replace a rule's content (kind included); null when there is no such rule. */
export async function replaceRule(db: D1Database, id: string, input: RuleInput, now: number): Promise<StoredRule | null> {
  const row = await db
    .prepare(
      `UPDATE inline_rules SET hook_type = ?2, kind = ?3, name = ?4, priority = ?5, enabled = ?6, definition = ?7,
              updated_at = ?8
       WHERE id = ?1 RETURNING *`,
    )
    .bind(id, RULE_HOOK_TYPE[input.kind], input.kind, input.name ?? null, input.priority, input.enabled ? 1 : 0, JSON.stringify(input.definition), now)
    .first<RuleRow>();
  return row ? toRule(row) : null;
}

/** Change only whether a rule runs and where in the order (the definition stays); null when there is no such rule. */
export async function patchRule(
  db: D1Database,
  id: string,
  patch: { enabled?: boolean | undefined; priority?: number | undefined },
  now: number,
): Promise<StoredRule | null> {
  const enabled = patch.enabled === undefined ? null : patch.enabled ? 1 : 0;
  const row = await db
    .prepare(
      `UPDATE inline_rules SET enabled = coalesce(?2, enabled), priority = coalesce(?3, priority), updated_at = ?4
       WHERE id = ?1 RETURNING *`,
    )
    .bind(id, enabled, patch.priority ?? null, now)
    .first<RuleRow>();
  return row ? toRule(row) : null;
}

export async function deleteRule(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM inline_rules WHERE id = ?1").bind(id).run();
  return result.meta.changes > 0;
}

// ---- lookup tables ----

export interface LookupEntry {
  table: string;
  key: string;
  value: unknown;
  updatedAt: number;
}

export async function getLookupValue(db: D1Database, table: string, key: string): Promise<unknown> {
  const row = await db
    .prepare("SELECT value FROM inline_lookup_entries WHERE table_name = ?1 AND lookup_key = ?2")
    .bind(table, key)
    .first<{ value: string }>();
  return row ? (JSON.parse(row.value) as unknown) : undefined;
}

export async function putLookupEntry(db: D1Database, table: string, key: string, value: unknown, now: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO inline_lookup_entries (table_name, lookup_key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (table_name, lookup_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    )
    .bind(table, key, JSON.stringify(value), now)
    .run();
}

export async function deleteLookupEntry(db: D1Database, table: string, key: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM inline_lookup_entries WHERE table_name = ?1 AND lookup_key = ?2")
    .bind(table, key)
    .run();
  return result.meta.changes > 0;
}

/** Entries of one table in key order, `limit` at a time after `afterKey` (cursor pagination). */
export async function listLookupEntries(db: D1Database, table: string, afterKey: string, limit: number): Promise<LookupEntry[]> {
  const { results } = await db
    .prepare(
      `SELECT lookup_key, value, updated_at FROM inline_lookup_entries
       WHERE table_name = ?1 AND lookup_key > ?2 ORDER BY lookup_key LIMIT ?3`,
    )
    .bind(table, afterKey, limit)
    .all<{ lookup_key: string; value: string; updated_at: number }>();
  return results.map((r) => ({ table, key: r.lookup_key, value: JSON.parse(r.value) as unknown, updatedAt: r.updated_at }));
}

/** Entries counted per table, at most: a count past it is reported as "at least" (it reads one row per entry). */
export const LOOKUP_COUNT_CAP = 10_000;

export interface LookupTableSummary {
  table: string;
  /** Entries in the table, up to LOOKUP_COUNT_CAP. */
  entries: number;
  /** True when the table holds more than `entries`. */
  entriesCapped: boolean;
}

/**
 * Tables that hold entries, in name order, `limit` after `afterTable`. One statement: the names by skipping through
 * the primary key (one index entry read per table, however many entries it has), and each table's entries counted
 * on the same index up to LOOKUP_COUNT_CAP + 1. What it reads: a table per row plus min(entries, cap + 1) each.
 */
export async function listLookupTables(db: D1Database, afterTable: string, limit: number): Promise<LookupTableSummary[]> {
  const { results } = await db
    .prepare(
      `WITH RECURSIVE tables(name, n) AS (
         SELECT (SELECT min(table_name) FROM inline_lookup_entries WHERE table_name > ?1), 1
         UNION ALL
         SELECT (SELECT min(table_name) FROM inline_lookup_entries WHERE table_name > tables.name), n + 1
         FROM tables WHERE tables.name IS NOT NULL AND n < ?2
       )
       SELECT name,
              (SELECT count(*) FROM (SELECT 1 FROM inline_lookup_entries e WHERE e.table_name = tables.name LIMIT ?3)) AS entries
       FROM tables WHERE name IS NOT NULL ORDER BY name`,
    )
    .bind(afterTable, limit, LOOKUP_COUNT_CAP + 1)
    .all<{ name: string; entries: number }>();
  return results.map((r) => ({
    table: r.name,
    entries: Math.min(r.entries, LOOKUP_COUNT_CAP),
    entriesCapped: r.entries > LOOKUP_COUNT_CAP,
  }));
}
