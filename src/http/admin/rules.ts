/**
 * /admin/api/rules — inline hook rules and their lookup tables (docs/inline-hooks.md).
 *
 *   GET    /rules[?type=token]                        list, in evaluation order
 *   POST   /rules                                     create  {kind, name?, priority?, enabled?, definition}
 *   GET    /rules/:id · PUT /rules/:id · DELETE /rules/:id
 *   PATCH  /rules/:id                                 {enabled?, priority?}: enable, disable or move, definition kept
 *   GET    /rules/lookup-tables[?after=&limit=]        tables with entries, in name order, each with its entry count
 *   GET    /rules/lookup-tables/:table[?after=&limit=]  entries in key order (cursor: the last key)
 *   PUT    /rules/lookup-tables/:table/entries/:key   {value: <any JSON>}
 *   DELETE /rules/lookup-tables/:table/entries/:key
 *
 * Bodies are validated strictly per rule kind (src/okta/inline/rules/schema.ts); a rule the builders would refuse
 * (reserved claim, bad pattern…) is refused with a 400 naming the field. Changes go through src/usecases/rules.ts,
 * which drops the isolate's rule cache after each.
 */
import { Hono } from "hono";
import * as z from "zod";
import { ApiError } from "../../errors";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../okta/inline/common";
import { ruleInputSchema } from "../../okta/inline/rules/schema";
import { getRule, listLookupEntries, listLookupTables, listRules } from "../../storage/inline-rules";
import { changeRule, changeRuleState, createRule, removeLookupEntry, removeRule, setLookupEntry } from "../../usecases/rules";
import type { AppEnv } from "../types";
import { readValidatedJson } from "../validated-json";
import { readValidatedQuery } from "../validated-query";

export const DEFAULT_LOOKUP_PAGE = 100;
export const MAX_LOOKUP_PAGE = 1000;

const tableName = /^[A-Za-z0-9_.-]{1,100}$/;
export const lookupValueSchema = z.strictObject({ value: z.json() });

/** Most tables one list answers with. */
export const MAX_LOOKUP_TABLES_PAGE = 100;

/** GET /rules/lookup-tables: `after` is the previous page's `next` (a table name), `limit` 1-100 (default 100). */
export const lookupTablesQuerySchema = z.strictObject({
  after: z.string().regex(tableName, "must be a table name (the previous page's next)").optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `must be an integer from 1 to ${MAX_LOOKUP_TABLES_PAGE}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `must be an integer from 1 to ${MAX_LOOKUP_TABLES_PAGE}`).max(MAX_LOOKUP_TABLES_PAGE, `must be an integer from 1 to ${MAX_LOOKUP_TABLES_PAGE}`))
    .default(MAX_LOOKUP_TABLES_PAGE),
});

/** PATCH /rules/:id: whether the rule runs and its place in the order; the definition is left as it is. */
export const rulePatchSchema = z
  .strictObject({
    enabled: z.boolean({ error: "must be true or false" }).optional(),
    priority: z
      .number({ error: "must be an integer from 0 to 1000000" })
      .int("must be an integer from 0 to 1000000")
      .min(0, "must be an integer from 0 to 1000000")
      .max(1_000_000, "must be an integer from 0 to 1000000")
      .optional(),
  })
  .refine((p) => p.enabled !== undefined || p.priority !== undefined, { message: 'give "enabled", "priority" or both', path: ["enabled"] });

export const ruleRoutes = new Hono<AppEnv>();

function checkTable(table: string): string {
  if (!tableName.test(table)) throw new ApiError("bad_request", "A lookup table name is 1-100 letters, digits, _ . or -.");
  return table;
}

function checkKey(key: string): string {
  if (key.length === 0 || key.length > 500) throw new ApiError("bad_request", "A lookup key is 1-500 characters.");
  return key;
}

ruleRoutes.get("/lookup-tables", async (c) => {
  const query = readValidatedQuery(c.req.url, lookupTablesQuerySchema);
  const tables = await listLookupTables(c.env.DB, query.after ?? "", query.limit);
  return c.json({ tables, next: tables.length === query.limit ? tables[tables.length - 1]!.table : null });
});

ruleRoutes.get("/lookup-tables/:table", async (c) => {
  const table = checkTable(c.req.param("table"));
  const limitRaw = c.req.query("limit");
  const limit = limitRaw === undefined ? DEFAULT_LOOKUP_PAGE : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LOOKUP_PAGE) {
    throw new ApiError("bad_request", `limit must be an integer between 1 and ${MAX_LOOKUP_PAGE}.`);
  }
  const entries = await listLookupEntries(c.env.DB, table, c.req.query("after") ?? "", limit);
  const next = entries.length === limit ? entries[entries.length - 1]!.key : null;
  return c.json({ table, entries, next });
});

ruleRoutes.put("/lookup-tables/:table/entries/:key", async (c) => {
  const table = checkTable(c.req.param("table"));
  const key = checkKey(c.req.param("key"));
  const { value } = await readValidatedJson(c.req.raw, lookupValueSchema);
  await setLookupEntry(c.env.DB, table, key, value, Date.now());
  return c.json({ table, key, value });
});

ruleRoutes.delete("/lookup-tables/:table/entries/:key", async (c) => {
  await removeLookupEntry(c.env.DB, checkTable(c.req.param("table")), checkKey(c.req.param("key")));
  return c.body(null, 204);
});

ruleRoutes.get("/", async (c) => {
  const type = c.req.query("type");
  if (type !== undefined && !INLINE_HOOK_TYPES.includes(type as InlineHookType)) {
    throw new ApiError("bad_request", `type must be one of ${INLINE_HOOK_TYPES.join(", ")}.`);
  }
  return c.json({ rules: await listRules(c.env.DB, type as InlineHookType | undefined) });
});

ruleRoutes.post("/", async (c) => {
  const input = await readValidatedJson(c.req.raw, ruleInputSchema);
  return c.json(await createRule(c.env.DB, input, Date.now()), 201);
});

ruleRoutes.get("/:id", async (c) => {
  const rule = await getRule(c.env.DB, c.req.param("id"));
  if (!rule) throw new ApiError("not_found", "No such rule.");
  return c.json(rule);
});

ruleRoutes.put("/:id", async (c) => {
  const input = await readValidatedJson(c.req.raw, ruleInputSchema);
  return c.json(await changeRule(c.env.DB, c.req.param("id"), input, Date.now()));
});

ruleRoutes.patch("/:id", async (c) => {
  // Unknown ids are a 404 before the body is judged.
  if (!(await getRule(c.env.DB, c.req.param("id")))) throw new ApiError("not_found", "No such rule.");
  const patch = await readValidatedJson(c.req.raw, rulePatchSchema);
  return c.json(await changeRuleState(c.env.DB, c.req.param("id"), patch, Date.now()));
});

ruleRoutes.delete("/:id", async (c) => {
  await removeRule(c.env.DB, c.req.param("id"));
  return c.body(null, 204);
});
