/**
 * SAML assertion inline hook, `com.okta.saml.tokens.transform`
 * (https://developer.okta.com/docs/guides/saml-inline-hook/main/;
 * Okta's management OpenAPI spec, `SAMLHookResponse`).
 *
 * One command, `com.okta.assertion.patch`, with ops `add` and `replace` only (no `remove`), on paths under
 * `/subject/`, `/authentication/`, `/conditions/` or `/claims/` (zero-based array indexes). New attributes are
 * `add /claims/<name>` with `{attributes: {NameFormat}, attributeValues: [{attributes: {"xsi:type"}, value}]}`;
 * URI attribute names are JSON-Pointer escaped; `add /authentication/sessionLifetime <seconds>` sets
 * SessionNotOnOrAfter. Empty decision: 204 (the assertion is sent unchanged).
 */
import * as z from "zod";
import {
  InlineCommandError,
  contextRequestSchema,
  inlineRequestSchema,
  inlineResponseSchema,
  jsonRecord,
  parsePointer,
  pathSegments,
  toPointer,
  type InlineResponse,
  type PointerSegment,
} from "./common";

export const SAML_EVENT_TYPE = "com.okta.saml.tokens.transform";
export const SAML_PATCH_ROOTS = ["subject", "authentication", "conditions", "claims"] as const;
export const NAME_FORMAT_UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
export const NAME_FORMAT_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
export const NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";

const samlAttributeSchema = z.looseObject({
  attributes: z.looseObject({}).nullish(),
  attributeValues: z.array(z.looseObject({ value: z.unknown() })).nullish(),
});

export const samlHookRequestSchema = inlineRequestSchema(
  SAML_EVENT_TYPE,
  z.looseObject({
    context: z.looseObject({
      request: contextRequestSchema,
      protocol: z
        .looseObject({
          type: z.string().nullish(),
          issuer: z.looseObject({ id: z.string().nullish(), name: z.string().nullish(), uri: z.string().nullish() }).nullish(),
        })
        .nullish(),
      session: z.looseObject({}).nullish(),
      user: z.looseObject({ id: z.string().nullish(), profile: jsonRecord.nullish() }).nullish(),
    }),
    assertion: z.looseObject({
      subject: z.looseObject({}).nullish(),
      authentication: z.looseObject({}).nullish(),
      conditions: z.looseObject({}).nullish(),
      claims: z.record(z.string(), samlAttributeSchema).nullish(),
      lifetime: z.looseObject({}).nullish(),
    }),
  }),
);
export type SamlHookRequest = z.infer<typeof samlHookRequestSchema>;

export type SamlPatchOp = { op: "add" | "replace"; path: string; value: unknown };

/** Why Okta would refuse this op, or null. */
export function samlOpProblem(op: { op: string; path: string; value?: unknown }): string | null {
  if (op.op !== "add" && op.op !== "replace") {
    return `SAML assertion patches accept only "add" and "replace", not "${op.op}"`;
  }
  const segments = parsePointer(op.path);
  const root = segments?.[0];
  if (!segments || segments.length < 2 || !SAML_PATCH_ROOTS.includes(root as (typeof SAML_PATCH_ROOTS)[number])) {
    return `path "${op.path}" must start with /subject/, /authentication/, /conditions/ or /claims/`;
  }
  if (segments.some((s) => s === "")) return `path "${op.path}" has an empty segment`;
  if (!("value" in op) || op.value === undefined) return `"${op.op}" of ${op.path} needs a value`;
  return null;
}

const samlOpSchema = z
  .strictObject({ op: z.string(), path: z.string(), value: z.unknown() })
  .superRefine((op, ctx) => {
    const problem = samlOpProblem(op);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const samlCommandSchema = z.strictObject({
  type: z.literal("com.okta.assertion.patch"),
  value: z.array(samlOpSchema).min(1),
});
export type SamlCommand = { type: "com.okta.assertion.patch"; value: SamlPatchOp[] };
export const samlHookResponseSchema = inlineResponseSchema(samlCommandSchema);
export type SamlHookResponse = InlineResponse<SamlCommand>;

function op(kind: "add" | "replace", path: readonly PointerSegment[], value: unknown): SamlPatchOp {
  const result = { op: kind, path: toPointer(pathSegments(path, `SAML ${kind}`)), value };
  const problem = samlOpProblem(result);
  if (problem) throw new InlineCommandError(problem);
  return result;
}

/** add at a path given as segments, e.g. ["authentication", "sessionLifetime"]; segments are escaped. */
export function samlAdd(path: readonly PointerSegment[], value: unknown): SamlPatchOp {
  return op("add", path, value);
}
export function samlReplace(path: readonly PointerSegment[], value: unknown): SamlPatchOp {
  return op("replace", path, value);
}

export interface SamlAttributeValue {
  value: unknown;
  /** xsi:type of the value, e.g. "xs:string" (default), "xs:integer". */
  xsiType?: string;
}

/** The JSON form of a SAML attribute Okta expects under /claims/<name>. */
export function samlAttribute(values: ReadonlyArray<SamlAttributeValue>, nameFormat = NAME_FORMAT_UNSPECIFIED) {
  if (values.length === 0) throw new InlineCommandError("a SAML attribute needs at least one value");
  return {
    attributes: { NameFormat: nameFormat },
    attributeValues: values.map((v) => ({ attributes: { "xsi:type": v.xsiType ?? "xs:string" }, value: v.value })),
  };
}

/** add /claims/<name> (a new attribute, or one that replaces an existing attribute of that name). */
export function samlAddAttribute(
  name: string,
  values: ReadonlyArray<SamlAttributeValue>,
  nameFormat = NAME_FORMAT_UNSPECIFIED,
): SamlPatchOp {
  return op("add", ["claims", name], samlAttribute(values, nameFormat));
}

/** add /authentication/sessionLifetime: Okta writes SessionNotOnOrAfter that many seconds ahead. */
export function samlSessionLifetime(seconds: number): SamlPatchOp {
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new InlineCommandError(`sessionLifetime must be a positive whole number of seconds, got ${seconds}`);
  }
  return op("add", ["authentication", "sessionLifetime"], seconds);
}

/** The "remove" op Okta does not support, refused with the reason (for authors who look for it). */
export function samlRemove(path: readonly PointerSegment[]): never {
  throw new InlineCommandError(`SAML assertion patches cannot remove (${toPointer(path)}); replace the value instead`);
}

export function assertionPatch(ops: readonly SamlPatchOp[]): SamlCommand {
  if (ops.length === 0) throw new InlineCommandError("an assertion patch needs at least one operation");
  for (const o of ops) {
    const problem = samlOpProblem(o);
    if (problem) throw new InlineCommandError(problem);
  }
  return { type: "com.okta.assertion.patch", value: [...ops] };
}
