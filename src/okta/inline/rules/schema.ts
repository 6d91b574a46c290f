/**
 * Declarative inline hook rules (docs/inline-hooks.md): what the admin API accepts, strictly, per kind. A rule that the
 * builders would refuse at decision time (a reserved claim, a bad pattern) is refused here, when it is written,
 * with a message naming the problem.
 *
 * Kinds:
 * - registration.email-domain      allow/deny self-service registration by the email's domain
 * - registration.attribute-pattern deny when a submitted attribute matches (or fails to match) a pattern
 * - registration.default-profile   set profile attributes the user left empty
 * - token.claim                    add a claim to the ID or access token
 * - saml.attribute                 add an attribute to the SAML assertion
 * - user-import.link-by-attribute  link an imported user to the Okta user found in a lookup table
 * Values come from a static JSON value, a user profile attribute, or a D1 lookup table; token and SAML rules can
 * be conditioned on client (app) id, scope, group and issuer.
 *
 * Pure domain code.
 */
import * as z from "zod";
import { InlineCommandError, type InlineHookType } from "../common";
import { NAME_FORMAT_BASIC, NAME_FORMAT_UNSPECIFIED, NAME_FORMAT_URI } from "../saml";
import { addClaim, tokenOpProblem } from "../token";
import { normaliseDomain } from "./email-domain";
import { MAX_PATTERN_LENGTH, patternProblem } from "./patterns";

const name = z.string().trim().min(1).max(200);
const attributeName = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:-]+$/, "must be a profile attribute name");
const tableName = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, "must be letters, digits, _ . or -");
/** A list entry, stored in the form registrants' domains are compared in (./email-domain.ts). */
const domain = z
  .string()
  .max(300)
  .transform((raw, ctx) => {
    const wildcard = raw.trim().startsWith("*.");
    const normalised = normaliseDomain(wildcard ? raw.trim().slice(2) : raw);
    if (normalised === undefined || !normalised.includes(".")) {
      ctx.addIssue({ code: "custom", message: "must be a domain like example.com or *.example.com" });
      return z.NEVER;
    }
    return wildcard ? `*.${normalised}` : normalised;
  });
const message = z.string().trim().min(1).max(500);

export const lookupKeySchema = z.discriminatedUnion("from", [
  z.strictObject({ from: z.literal("profile"), attribute: attributeName }),
  z.strictObject({ from: z.literal("userId") }),
  z.strictObject({ from: z.literal("clientId") }),
]);
export type LookupKey = z.infer<typeof lookupKeySchema>;

export const valueSourceSchema = z.discriminatedUnion("from", [
  z.strictObject({ from: z.literal("static"), value: z.json() }),
  z.strictObject({ from: z.literal("profile"), attribute: attributeName }),
  z.strictObject({ from: z.literal("lookup"), table: tableName, key: lookupKeySchema }),
]);
export type ValueSource = z.infer<typeof valueSourceSchema>;

const nonEmptyList = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(100);
export const conditionsSchema = z.strictObject({
  clientIds: nonEmptyList(z.string().min(1)).optional(),
  scopes: nonEmptyList(z.string().min(1)).optional(),
  groups: nonEmptyList(z.string().min(1)).optional(),
  issuers: nonEmptyList(z.string().min(1)).optional(),
});
export type Conditions = z.infer<typeof conditionsSchema>;

const emailDomain = z
  .strictObject({ allow: z.array(domain).max(500).optional(), deny: z.array(domain).max(500).optional(), errorSummary: message, fieldMessage: message })
  .refine((d) => (d.allow?.length ?? 0) + (d.deny?.length ?? 0) > 0, "needs at least one domain in allow or deny");

const attributePattern = z.strictObject({
  attribute: attributeName,
  // RE2 syntax (./patterns.ts): linear-time matching whatever the pattern; refused here only if RE2 cannot compile it.
  pattern: z
    .string()
    .min(1)
    .max(MAX_PATTERN_LENGTH)
    .superRefine((pattern, ctx) => {
      const problem = patternProblem(pattern);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: `is not a valid RE2 regular expression (${problem})` });
    }),
  ignoreCase: z.boolean().default(false),
  effect: z.enum(["deny-if-match", "deny-unless-match"]),
  errorSummary: message,
  fieldMessage: message,
  reason: z.string().min(1).max(100).optional(),
});

const profileValue = z.union([z.string(), z.number(), z.boolean()]);
const defaultProfile = z.strictObject({
  values: z
    .record(attributeName, profileValue)
    .refine((v) => Object.keys(v).length > 0, "needs at least one attribute")
    .refine((v) => !("password" in v), "cannot set password"),
});

const tokenClaim = z
  .strictObject({ token: z.enum(["identity", "access"]), claim: z.string().min(1).max(200), value: valueSourceSchema, when: conditionsSchema.optional() })
  .superRefine((d, ctx) => {
    try {
      const problem = tokenOpProblem(d.token, addClaim(d.claim, null));
      if (problem) ctx.addIssue({ code: "custom", path: ["claim"], message: problem });
    } catch (error) {
      if (error instanceof InlineCommandError) ctx.addIssue({ code: "custom", path: ["claim"], message: error.message });
      else throw error;
    }
  });

const samlAttribute = z.strictObject({
  attribute: z.string().min(1).max(500),
  nameFormat: z.enum([NAME_FORMAT_UNSPECIFIED, NAME_FORMAT_BASIC, NAME_FORMAT_URI]).default(NAME_FORMAT_UNSPECIFIED),
  xsiType: z.string().regex(/^xs:[A-Za-z]+$/, 'must be an XML Schema type like "xs:string"').default("xs:string"),
  value: valueSourceSchema,
  when: conditionsSchema
    .refine((w) => w.scopes === undefined, "SAML has no scopes; use clientIds, groups or issuers")
    .optional(),
});

const linkByAttribute = z.strictObject({
  appUserAttribute: attributeName,
  table: tableName,
  lowercaseKey: z.boolean().default(false),
});

const common = {
  name: name.optional(),
  priority: z.number().int().min(0).max(1_000_000).default(100),
  enabled: z.boolean().default(true),
};

export const ruleInputSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("registration.email-domain"), ...common, definition: emailDomain }),
  z.strictObject({ kind: z.literal("registration.attribute-pattern"), ...common, definition: attributePattern }),
  z.strictObject({ kind: z.literal("registration.default-profile"), ...common, definition: defaultProfile }),
  z.strictObject({ kind: z.literal("token.claim"), ...common, definition: tokenClaim }),
  z.strictObject({ kind: z.literal("saml.attribute"), ...common, definition: samlAttribute }),
  z.strictObject({ kind: z.literal("user-import.link-by-attribute"), ...common, definition: linkByAttribute }),
]);
export type RuleInput = z.infer<typeof ruleInputSchema>;
export type RuleKind = RuleInput["kind"];

export const RULE_HOOK_TYPE: Record<RuleKind, InlineHookType> = {
  "registration.email-domain": "registration",
  "registration.attribute-pattern": "registration",
  "registration.default-profile": "registration",
  "token.claim": "token",
  "saml.attribute": "saml",
  "user-import.link-by-attribute": "user-import",
};

/** A stored rule, as evaluation sees it. */
export type Rule = RuleInput & { id: string };
export type RuleOf<K extends RuleKind> = Extract<Rule, { kind: K }>;
