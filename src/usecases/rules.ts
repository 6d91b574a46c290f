/**
 * The inline hook rule use cases: every change to a rule or a lookup entry is written to D1 and then drops this
 * isolate's rule cache, so the next hook call here sees it; other isolates see it within
 * INLINE_RULES_CACHE_TTL_SECONDS (src/storage/inline-rule-cache.ts).
 */
import { ApiError } from "../errors";
import { invalidateInlineRuleCache } from "../storage/inline-rule-cache";
import {
  deleteLookupEntry,
  deleteRule,
  insertRule,
  patchRule,
  putLookupEntry,
  replaceRule,
  type StoredRule,
} from "../storage/inline-rules";
import type { RuleInput } from "../okta/inline/rules/schema";

export async function createRule(db: D1Database, input: RuleInput, now: number): Promise<StoredRule> {
  const rule = await insertRule(db, input, now);
  invalidateInlineRuleCache(db);
  return rule;
}

export async function changeRule(db: D1Database, id: string, input: RuleInput, now: number): Promise<StoredRule> {
  const rule = await replaceRule(db, id, input, now);
  if (!rule) throw new ApiError("not_found", "No such rule.");
  invalidateInlineRuleCache(db);
  return rule;
}

/** Enable, disable or move a rule without resending its definition. */
export async function changeRuleState(
  db: D1Database,
  id: string,
  patch: { enabled?: boolean | undefined; priority?: number | undefined },
  now: number,
): Promise<StoredRule> {
  const rule = await patchRule(db, id, patch, now);
  if (!rule) throw new ApiError("not_found", "No such rule.");
  invalidateInlineRuleCache(db);
  return rule;
}

export async function removeRule(db: D1Database, id: string): Promise<void> {
  if (!(await deleteRule(db, id))) throw new ApiError("not_found", "No such rule.");
  invalidateInlineRuleCache(db);
}

export async function setLookupEntry(db: D1Database, table: string, key: string, value: unknown, now: number): Promise<void> {
  if (value === null) throw new ApiError("invalid_body", "value: must not be null (DELETE the entry instead).");
  await putLookupEntry(db, table, key, value, now);
  invalidateInlineRuleCache(db);
}

export async function removeLookupEntry(db: D1Database, table: string, key: string): Promise<void> {
  if (!(await deleteLookupEntry(db, table, key))) throw new ApiError("not_found", "No such lookup entry.");
  invalidateInlineRuleCache(db);
}
