/**
 * zod schemas as OpenAPI 3.1 Schema Objects (JSON Schema 2020-12), with zod 4's own converter (`z.toJSONSchema`,
 * https://zod.dev/json-schema) and four adjustments for a document rather than a standalone schema:
 *
 * - A schema with `.meta({ id })` becomes a component (`#/components/schemas/<id>`) wherever it appears; zod's
 *   `$defs` refs are rewritten to point there, because inside an OpenAPI document `#/$defs/…` would resolve against
 *   the document, not the schema.
 * - `z.json()` (any JSON value) is `{}`: zod describes it as a recursive union, which adds nothing a reader needs.
 * - Requests are described by what they accept (`io: "input"`: before transforms, defaults optional), responses
 *   by what they are (`io: "output"`); a response object is open (no `additionalProperties: false`), so a field
 *   added later does not break a client that validates.
 * - Noise is dropped: the long date-time pattern next to `format: date-time`, the ±2^53 bounds of every integer.
 */
import * as z from "zod";

export type JsonSchema = { [key: string]: unknown };

const COMPONENTS = "#/components/schemas/";
const DEFS = "#/$defs/";

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function adjust(io: "input" | "output") {
  return (ctx: { zodSchema: z.core.$ZodType; jsonSchema: z.core.JSONSchema.BaseSchema }) => {
    const def = ctx.zodSchema._zod.def;
    const json = ctx.jsonSchema as JsonSchema;
    if (def.type === "lazy") {
      // Only z.json() is lazy here: any JSON value.
      for (const key of Object.keys(json)) delete json[key];
      json.description = "Any JSON value.";
      return;
    }
    if (io === "output" && def.type === "object" && json.additionalProperties === false) delete json.additionalProperties;
    if (json.format === "date-time") delete json.pattern;
    if (json.type === "integer") {
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
    }
  };
}

/**
 * `schema` as an OpenAPI Schema Object; the named schemas it holds are added to `components` (an id used twice
 * with different contents is a mistake in the descriptions: it throws, and the document's tests fail).
 */
export function toOpenApiSchema(schema: z.ZodType, io: "input" | "output", components: Record<string, JsonSchema>): JsonSchema {
  const converted = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any", override: adjust(io) }) as JsonSchema;
  delete converted.$schema;
  const defs = (converted.$defs ?? {}) as Record<string, JsonSchema>;
  delete converted.$defs;

  const anonymous = (name: string) => name.startsWith("__");
  const rewrite = (node: unknown, seen: readonly string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => rewrite(item, seen));
    if (!isRecord(node)) return node;
    const ref = node.$ref;
    if (typeof ref === "string" && ref.startsWith(DEFS)) {
      const name = ref.slice(DEFS.length);
      const { $ref: _ref, ...siblings } = node;
      if (anonymous(name)) {
        // An unnamed shared part (zod extracts repeated or recursive parts): inlined; recursion needs a name.
        if (seen.includes(name)) throw new Error(`OpenAPI: a recursive schema needs .meta({ id }) (${name})`);
        return { ...(rewrite(defs[name], [...seen, name]) as JsonSchema), ...(rewrite(siblings, seen) as JsonSchema) };
      }
      return { $ref: `${COMPONENTS}${name}`, ...(rewrite(siblings, seen) as JsonSchema) };
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, rewrite(value, seen)]));
  };

  for (const [name, def] of Object.entries(defs)) {
    if (anonymous(name)) continue;
    const text = JSON.stringify(rewrite(def, []));
    const existing = components[name];
    if (existing !== undefined && JSON.stringify(existing) !== text) {
      throw new Error(`OpenAPI: two different schemas are named ${name}`);
    }
    components[name] = JSON.parse(text) as JsonSchema;
  }
  return rewrite(converted, []) as JsonSchema;
}
