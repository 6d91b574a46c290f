/**
 * The OpenAPI description of /admin/api/rules (src/http/admin/rules.ts; docs/inline-hooks.md): inline hook rules and
 * their lookup tables. The rules routes check their query and path parameters by hand (400 `bad_request`); the
 * schemas below describe those checks.
 */
import * as z from "zod";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../../okta/inline/common";
import { ruleInputSchema } from "../../../okta/inline/rules/schema";
import { DEFAULT_LOOKUP_PAGE, lookupTablesQuerySchema, MAX_LOOKUP_PAGE, rulePatchSchema } from "../rules";
import type { RouteDescription } from "./describe";

const hookType = z.enum(INLINE_HOOK_TYPES as [InlineHookType, ...InlineHookType[]]);
const storedFields = {
  id: z.string(),
  hookType,
  createdAt: z.number().int().describe("Epoch milliseconds."),
  updatedAt: z.number().int().describe("Epoch milliseconds."),
};

/** A stored rule: what was written (defaults applied), its id, hook type and times. */
export const storedRule = z
  .union(ruleInputSchema.options.map((kind) => kind.extend(storedFields)) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]])
  .meta({ id: "Rule" });

const tableName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/);
const lookupKey = z.string().min(1).max(500);
const ruleId = { id: { description: "The rule's id.", schema: z.string().min(1) } };
const table = { table: { description: "A lookup table's name: 1–100 letters, digits, `_`, `.` or `-`.", schema: tableName } };
const entry = { ...table, key: { description: "The entry's key (1–500 characters).", schema: lookupKey } };
const lookupValue = z.json().describe("Any JSON value but null.");
const ruleInput = ruleInputSchema.meta({ id: "RuleInput" });

export const ruleRouteDescriptions: RouteDescription[] = [
  {
    method: "get",
    path: "/admin/api/rules",
    operationId: "listRules",
    tag: "Inline hook rules",
    summary: "List rules",
    description: "In evaluation order.",
    query: { schema: z.object({ type: hookType.optional() }), descriptions: { type: "Only the rules of this inline hook type." }, errorCode: "bad_request" },
    responses: { 200: { description: "The rules.", schema: z.object({ rules: z.array(storedRule) }) } },
  },
  {
    method: "post",
    path: "/admin/api/rules",
    operationId: "createRule",
    tag: "Inline hook rules",
    summary: "Create a rule",
    description: "Validated per kind; a rule the builders would refuse (a reserved claim, an invalid pattern) is a 400 naming the field.",
    body: { schema: ruleInput },
    responses: { 201: { description: "Created.", schema: storedRule } },
  },
  {
    method: "get",
    path: "/admin/api/rules/:id",
    operationId: "getRule",
    tag: "Inline hook rules",
    summary: "Get a rule",
    params: ruleId,
    responses: { 200: { description: "The rule.", schema: storedRule } },
    errors: ["not_found"],
  },
  {
    method: "put",
    path: "/admin/api/rules/:id",
    operationId: "replaceRule",
    tag: "Inline hook rules",
    summary: "Replace a rule",
    params: ruleId,
    body: { schema: ruleInput },
    responses: { 200: { description: "The rule as stored.", schema: storedRule } },
    errors: ["not_found"],
  },
  {
    method: "delete",
    path: "/admin/api/rules/:id",
    operationId: "deleteRule",
    tag: "Inline hook rules",
    summary: "Delete a rule",
    params: ruleId,
    responses: { 204: { description: "Deleted." } },
    errors: ["not_found"],
  },
  {
    method: "patch",
    path: "/admin/api/rules/:id",
    operationId: "patchRule",
    tag: "Inline hook rules",
    summary: "Enable, disable or move a rule",
    description: "Changes `enabled` and/or `priority` and leaves the definition as it is; the isolate's rule cache is dropped at once.",
    params: ruleId,
    body: { schema: rulePatchSchema.meta({ id: "RulePatch" }) },
    responses: { 200: { description: "The rule as stored.", schema: storedRule } },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/api/rules/lookup-tables",
    operationId: "listLookupTables",
    tag: "Inline hook rules",
    summary: "List lookup tables",
    description: "Tables that hold entries, in name order, with their entry counts (counted up to 10,000).",
    query: {
      schema: lookupTablesQuerySchema,
      descriptions: { after: "The previous page's `next`: tables after this name.", limit: "Page size, 1–100 (default 100)." },
      errorCode: "invalid_query",
    },
    responses: {
      200: {
        description: "A page of tables.",
        schema: z
          .object({
            tables: z.array(
              z.object({
                table: z.string(),
                entries: z.number().int().describe("Entries in the table, counted up to 10,000."),
                entriesCapped: z.boolean().describe("True when the table holds more than `entries`."),
              }),
            ),
            next: z.string().nullable().describe("Pass as `after` for the next page; null: the last page."),
          })
          .meta({ id: "LookupTablePage" }),
      },
    },
  },
  {
    method: "get",
    path: "/admin/api/rules/lookup-tables/:table",
    operationId: "listLookupEntries",
    tag: "Inline hook rules",
    summary: "A lookup table's entries",
    description: "In key order.",
    params: table,
    query: {
      schema: z.object({ after: z.string().optional(), limit: z.string().optional() }),
      descriptions: {
        after: "The previous page's `next`: entries after this key.",
        limit: `Page size, 1–${MAX_LOOKUP_PAGE} (default ${DEFAULT_LOOKUP_PAGE}).`,
      },
      errorCode: "bad_request",
    },
    responses: {
      200: {
        description: "A page of entries.",
        schema: z
          .object({
            table: z.string(),
            entries: z.array(
              z.object({ table: z.string(), key: z.string(), value: lookupValue, updatedAt: z.number().int().describe("Epoch milliseconds.") }),
            ),
            next: z.string().nullable().describe("Pass as `after` for the next page; null: the last page."),
          })
          .meta({ id: "LookupEntryPage" }),
      },
    },
  },
  {
    method: "put",
    path: "/admin/api/rules/lookup-tables/:table/entries/:key",
    operationId: "putLookupEntry",
    tag: "Inline hook rules",
    summary: "Set a lookup entry",
    params: entry,
    body: { schema: z.strictObject({ value: lookupValue }).meta({ id: "LookupValue" }) },
    responses: { 200: { description: "The entry as stored.", schema: z.object({ table: z.string(), key: z.string(), value: lookupValue }) } },
    errors: ["bad_request"],
  },
  {
    method: "delete",
    path: "/admin/api/rules/lookup-tables/:table/entries/:key",
    operationId: "deleteLookupEntry",
    tag: "Inline hook rules",
    summary: "Delete a lookup entry",
    params: entry,
    responses: { 204: { description: "Deleted." } },
    errors: ["bad_request", "not_found"],
  },
];
