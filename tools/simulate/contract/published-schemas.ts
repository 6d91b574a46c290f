/**
 * Okta's published response schemas of the six inline hook types (data/okta-inline-hook-response-schemas.json:
 * github.com/okta/okta-management-openapi-spec, dist/current/management-minimal.yaml, info.version 2026.06.3,
 * unchanged), checked with @cfworker/json-schema (draft 2020-12, the dialect of OpenAPI 3.1). These schemas are
 * Okta's own and independent of the gateway's code; they are looser than Okta's prose (reserved claims, paths,
 * lifetimes), which ./inline.ts checks on top.
 */
import { readFileSync } from "node:fs";
import { Validator, type Schema } from "@cfworker/json-schema";
import type { InlineHookType } from "../../../src/okta/inline/common.ts";

/** The schema Okta publishes for each type's response. */
export const RESPONSE_SCHEMA_NAMES: Record<InlineHookType, string> = {
  token: "TokenHookResponse",
  registration: "RegistrationResponse",
  "password-import": "PasswordImportResponse",
  saml: "SAMLHookResponse",
  "user-import": "UserImportResponse",
  telephony: "TelephonyResponse",
};

const DATA_FILE = new URL("../data/okta-inline-hook-response-schemas.json", import.meta.url);

let validators: Map<InlineHookType, Validator> | undefined;

function validatorFor(type: InlineHookType): Validator {
  if (!validators) {
    const { schemas } = JSON.parse(readFileSync(DATA_FILE, "utf8")) as { schemas: Record<string, Schema> };
    validators = new Map();
    for (const [hookType, name] of Object.entries(RESPONSE_SCHEMA_NAMES) as Array<[InlineHookType, string]>) {
      const schema = schemas[name];
      if (!schema) throw new Error(`${DATA_FILE.pathname} has no schema ${name}`);
      validators.set(hookType, new Validator(schema, "2020-12", false));
    }
  }
  return validators.get(type)!;
}

/**
 * Where `body` breaks Okta's published schema for `type`, one line per failing leaf, e.g.
 * `/commands/0/value/0/value: Instance type "boolean" is invalid. Expected "string".` (paths, never values).
 */
export function publishedSchemaProblems(type: InlineHookType, body: unknown): string[] {
  const result = validatorFor(type).validate(body);
  if (result.valid) return [];
  // Parent keywords (properties, items, oneOf…) repeat what their children say; keep the leaves.
  const leaves = result.errors.filter((e) => !["properties", "items", "additionalProperties", "$ref", "allOf"].includes(e.keyword));
  const lines = (leaves.length > 0 ? leaves : result.errors).map((e) => `${e.instanceLocation.replace(/^#/, "") || "/"}: ${e.error}`);
  return [...new Set(lines)];
}
