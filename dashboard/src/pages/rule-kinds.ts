/**
 * The form of each inline hook rule kind, as data: which controls, at which path of the rule the admin API takes
 * (docs/inline-hooks.md "Rules"), and how a control's text becomes JSON. The API validates the rule; its 400
 * names the path ("definition.pattern: …"), which is a control's path here, so the message lands beside it.
 */
import type { InlineHookType, RuleKind } from "../api/types";

export type Values = Record<string, string | boolean>;

export interface FieldSpec {
  path: string;
  label: string;
  type: "text" | "list" | "checkbox" | "select" | "json" | "key-values";
  hint?: string;
  options?: ReadonlyArray<readonly [string, string]>;
  /** Left out of the rule when empty. */
  optional?: boolean;
  initial?: string | boolean;
  /** Shown (and sent) only when this holds. */
  when?: (values: Values) => boolean;
}

export interface KindSpec {
  kind: RuleKind;
  type: InlineHookType;
  label: string;
  summary: string;
  fields: FieldSpec[];
}

const errorTexts: FieldSpec[] = [
  { path: "definition.errorSummary", label: "Error shown to the registrant", type: "text", initial: "Registration is not available for this email address." },
  { path: "definition.fieldMessage", label: "Message at the email field", type: "text", initial: "Use your work email address." },
];

/** Where a claim or attribute value comes from: a JSON value, a profile attribute, or a lookup table. */
const valueSource: FieldSpec[] = [
  {
    path: "definition.value.from",
    label: "Value from",
    type: "select",
    options: [
      ["static", "A fixed JSON value"],
      ["profile", "An attribute of the user's profile"],
      ["lookup", "A lookup table"],
    ],
    initial: "static",
  },
  { path: "definition.value.value", label: "Value (JSON)", type: "json", hint: 'e.g. "gold", 42, ["a","b"] or {"tier":"gold"}', initial: '""', when: (v) => v["definition.value.from"] === "static" },
  { path: "definition.value.attribute", label: "Profile attribute", type: "text", hint: "e.g. department", when: (v) => v["definition.value.from"] === "profile" },
  { path: "definition.value.table", label: "Lookup table", type: "text", when: (v) => v["definition.value.from"] === "lookup" },
  {
    path: "definition.value.key.from",
    label: "Looked up by",
    type: "select",
    options: [
      ["profile", "A profile attribute"],
      ["userId", "The Okta user id"],
      ["clientId", "The app's client id"],
    ],
    initial: "profile",
    when: (v) => v["definition.value.from"] === "lookup",
  },
  {
    path: "definition.value.key.attribute",
    label: "Key attribute",
    type: "text",
    hint: "The profile attribute whose value is the key, e.g. login.",
    when: (v) => v["definition.value.from"] === "lookup" && v["definition.value.key.from"] === "profile",
  },
];

const listHint = "Comma-separated or one per line; empty: any.";
const conditions = (withScopes: boolean): FieldSpec[] => [
  { path: "definition.when.clientIds", label: "Only for client (app) ids", type: "list", optional: true, hint: listHint },
  ...(withScopes ? [{ path: "definition.when.scopes", label: "Only when a scope is requested", type: "list" as const, optional: true, hint: listHint }] : []),
  { path: "definition.when.groups", label: "Only for members of groups", type: "list", optional: true, hint: listHint },
  { path: "definition.when.issuers", label: "Only for issuers", type: "list", optional: true, hint: listHint },
];

export const KINDS: KindSpec[] = [
  {
    kind: "token.claim",
    type: "token",
    label: "Add a claim",
    summary: "Adds a claim to the ID or access token Okta is about to mint.",
    fields: [
      {
        path: "definition.token",
        label: "Token",
        type: "select",
        options: [
          ["access", "Access token"],
          ["identity", "ID token"],
        ],
        initial: "access",
      },
      { path: "definition.claim", label: "Claim name", type: "text", hint: "Okta's reserved claims (sub, iss, exp…) are refused." },
      ...valueSource,
      ...conditions(true),
    ],
  },
  {
    kind: "registration.email-domain",
    type: "registration",
    label: "Allow or deny by email domain",
    summary: "Self-service registration: allow only some email domains, or deny some.",
    fields: [
      { path: "definition.allow", label: "Allowed domains", type: "list", optional: true, hint: "example.com or *.example.com; one per line." },
      { path: "definition.deny", label: "Denied domains", type: "list", optional: true, hint: "Checked before the allowed ones." },
      ...errorTexts,
    ],
  },
  {
    kind: "registration.attribute-pattern",
    type: "registration",
    label: "Deny by attribute pattern",
    summary: "Self-service registration: deny when a submitted attribute matches (or fails to match) a pattern.",
    fields: [
      { path: "definition.attribute", label: "Attribute", type: "text", hint: "e.g. email, login, mobilePhone." },
      { path: "definition.pattern", label: "Pattern (RE2 regular expression)", type: "text", hint: "Linear-time RE2 syntax, e.g. ^[^+]+@example\\.com$" },
      { path: "definition.ignoreCase", label: "Ignore case", type: "checkbox", initial: false },
      {
        path: "definition.effect",
        label: "Effect",
        type: "select",
        options: [
          ["deny-if-match", "Deny when it matches"],
          ["deny-unless-match", "Deny unless it matches"],
        ],
        initial: "deny-if-match",
      },
      ...errorTexts,
      { path: "definition.reason", label: "Reason (for the audit record)", type: "text", optional: true },
    ],
  },
  {
    kind: "registration.default-profile",
    type: "registration",
    label: "Default profile values",
    summary: "Self-service registration: sets profile attributes the registrant left empty.",
    fields: [{ path: "definition.values", label: "Values", type: "key-values", hint: "One attribute=value per line; true, false and numbers are sent as such." }],
  },
  {
    kind: "saml.attribute",
    type: "saml",
    label: "Add an attribute",
    summary: "Adds an attribute to the SAML assertion.",
    fields: [
      { path: "definition.attribute", label: "Attribute name", type: "text" },
      {
        path: "definition.nameFormat",
        label: "Name format",
        type: "select",
        options: [
          ["urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "Unspecified"],
          ["urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "Basic"],
          ["urn:oasis:names:tc:SAML:2.0:attrname-format:uri", "URI"],
        ],
        initial: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
      },
      { path: "definition.xsiType", label: "xsi:type", type: "text", initial: "xs:string" },
      ...valueSource,
      ...conditions(false),
    ],
  },
  {
    kind: "user-import.link-by-attribute",
    type: "user-import",
    label: "Link to an existing user",
    summary: "User import: links the imported user to the Okta user a lookup table names.",
    fields: [
      { path: "definition.appUserAttribute", label: "App user attribute", type: "text", hint: "Its value is the lookup key, e.g. email." },
      { path: "definition.table", label: "Lookup table", type: "text", hint: "Maps that value to an Okta user id." },
      { path: "definition.lowercaseKey", label: "Lower-case the key first", type: "checkbox", initial: false },
    ],
  },
];

export const kindSpec = (kind: string) => KINDS.find((k) => k.kind === kind);
export const kindsOf = (type: InlineHookType) => KINDS.filter((k) => k.type === type);

// ---- values <-> rule ----

function valueAt(source: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), source);
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** The form's values for a new rule of `spec`, or for an existing rule. */
export function valuesOf(spec: KindSpec, rule?: { definition: Record<string, unknown> }): Values {
  const values: Values = {};
  for (const field of spec.fields) {
    const stored = rule ? valueAt(rule, field.path) : undefined;
    if (field.type === "checkbox") values[field.path] = rule ? stored === true : ((field.initial as boolean | undefined) ?? false);
    else if (!rule || stored === undefined) values[field.path] = rule && field.type !== "select" ? "" : ((field.initial as string | undefined) ?? "");
    else if (field.type === "list") values[field.path] = Array.isArray(stored) ? stored.join("\n") : "";
    else if (field.type === "json") values[field.path] = stored === undefined ? "" : JSON.stringify(stored, null, 2);
    else if (field.type === "key-values")
      values[field.path] = stored && typeof stored === "object" ? Object.entries(stored).map(([k, v]) => `${k}=${String(v)}`).join("\n") : "";
    else values[field.path] = typeof stored === "string" ? stored : stored === undefined ? "" : String(stored);
  }
  return values;
}

export class FieldProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function typed(text: string): string | number | boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/** The rule's `definition` from the form's values; a FieldProblem when a control's text is not what it must be. */
export function definitionOf(spec: KindSpec, values: Values): Record<string, unknown> {
  const rule: Record<string, unknown> = { definition: {} };
  for (const field of spec.fields) {
    if (field.when && !field.when(values)) continue;
    const raw = values[field.path];
    if (field.type === "checkbox") {
      setAt(rule, field.path, raw === true);
      continue;
    }
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "" && field.optional) continue;
    if (field.type === "list") {
      setAt(rule, field.path, text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean));
    } else if (field.type === "json") {
      try {
        setAt(rule, field.path, JSON.parse(text) as unknown);
      } catch {
        throw new FieldProblem(field.path, 'is not JSON: quote text ("gold"), or write a number, true, false, [ … ] or { … }');
      }
    } else if (field.type === "key-values") {
      const record: Record<string, unknown> = {};
      for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const at = line.indexOf("=");
        if (at <= 0) throw new FieldProblem(field.path, `"${line}" is not attribute=value`);
        record[line.slice(0, at).trim()] = typed(line.slice(at + 1).trim());
      }
      setAt(rule, field.path, record);
    } else {
      setAt(rule, field.path, text);
    }
  }
  return rule.definition as Record<string, unknown>;
}

/** One line saying what a rule does, for the list. */
export function describeRule(rule: { kind: RuleKind; definition: Record<string, unknown> }): string {
  const d = rule.definition as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const source = (v: Record<string, any> | undefined) => // eslint-disable-line @typescript-eslint/no-explicit-any
    !v ? "?" : v.from === "static" ? JSON.stringify(v.value) : v.from === "profile" ? `profile.${v.attribute}` : `lookup ${v.table}`;
  switch (rule.kind) {
    case "token.claim":
      return `${d.token === "identity" ? "ID" : "access"} token claim ${d.claim} = ${source(d.value)}`;
    case "registration.email-domain":
      return [d.allow?.length ? `allow ${d.allow.join(", ")}` : null, d.deny?.length ? `deny ${d.deny.join(", ")}` : null].filter(Boolean).join("; ");
    case "registration.attribute-pattern":
      return `${d.effect === "deny-if-match" ? "deny if" : "deny unless"} ${d.attribute} matches ${d.pattern}`;
    case "registration.default-profile":
      return `defaults for ${Object.keys(d.values ?? {}).join(", ")}`;
    case "saml.attribute":
      return `attribute ${d.attribute} = ${source(d.value)}`;
    case "user-import.link-by-attribute":
      return `link by ${d.appUserAttribute} through ${d.table}`;
  }
}

/** The lookup tables a rule reads. */
export function tablesOf(rule: { kind: RuleKind; definition: Record<string, unknown> }): string[] {
  const d = rule.definition as { table?: unknown; value?: { from?: unknown; table?: unknown } };
  const tables = [d.table, d.value?.from === "lookup" ? d.value.table : undefined];
  return tables.filter((t): t is string => typeof t === "string");
}
