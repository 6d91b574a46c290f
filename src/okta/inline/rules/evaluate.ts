/**
 * Deciding an inline hook call from the rules (kinds in ./schema.ts). Deterministic: the same request, rules and
 * lookup values give the same decision, which is what Okta's one retry of registration, SAML and user import needs.
 *
 * Rules are applied in priority order (lower first, then id). Registration: every deny rule that fails
 * contributes a field-level error (the Sign-In Widget shows each beside its field) and the first one's summary
 * heads the error; otherwise default profile values fill attributes the user left empty. Token and SAML: each
 * applicable rule adds its claim/attribute; the first rule for a given claim wins; a value that resolves to
 * nothing (missing attribute, no lookup row) adds nothing. User import: the first rule that finds the imported
 * user in its lookup table links to that Okta user.
 *
 * Pure domain code: lookups are a function the caller passes (D1 behind a cache, in production).
 */
import type { InlineHookType } from "../common";
import type { InlineHookRequest, InlineHookResponses } from "../index";
import {
  denyRegistrationResponse,
  fieldError,
  registrationRequestKind,
  submittedAttributes,
  updateProfile,
  updateProgressiveProfile,
  type RegistrationHookRequest,
  type RegistrationHookResponse,
} from "../registration";
import { assertionPatch, samlAddAttribute, type SamlHookRequest, type SamlHookResponse, type SamlPatchOp } from "../saml";
import { accessPatch, addClaim, identityPatch, type TokenCommand, type TokenHookRequest, type TokenHookResponse, type TokenPatchOp } from "../token";
import { linkUser, type UserImportHookRequest, type UserImportHookResponse } from "../user-import";
import { domainMatches, emailDomain } from "./email-domain";
import { MAX_PATTERN_INPUT_LENGTH, patternFinds } from "./patterns";
import { type Conditions, type Rule, type RuleOf, type ValueSource } from "./schema";

/** The value stored under `key` in lookup table `table`, or undefined when there is none. */
export type Lookup = (table: string, key: string) => Promise<unknown>;

export interface RuleDecision<T extends InlineHookType> {
  response: InlineHookResponses[T];
  /** Ids of the rules that shaped the response. */
  ruleIds: string[];
}

/** Facts about the caller a value source or condition can refer to. */
interface Facts {
  profile: Record<string, unknown>;
  userId: string | undefined;
  clientId: string | undefined;
  scopes: Set<string>;
  groups: Set<string>;
  issuer: string | undefined;
}

function ofKind<K extends Rule["kind"]>(rules: readonly Rule[], kind: K): RuleOf<K>[] {
  return rules.filter((r): r is RuleOf<K> => r.kind === kind && r.enabled);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

async function resolveValue(source: ValueSource, facts: Facts, lookup: Lookup): Promise<unknown> {
  switch (source.from) {
    case "static":
      return source.value;
    case "profile":
      return facts.profile[source.attribute] ?? undefined;
    case "lookup": {
      const key =
        source.key.from === "profile" ? facts.profile[source.key.attribute] : source.key.from === "userId" ? facts.userId : facts.clientId;
      if (!present(key) || typeof key === "object") return undefined;
      return (await lookup(source.table, String(key))) ?? undefined;
    }
  }
}

function conditionsHold(when: Conditions | undefined, facts: Facts): boolean {
  if (!when) return true;
  if (when.clientIds && !(facts.clientId !== undefined && when.clientIds.includes(facts.clientId))) return false;
  if (when.scopes && !when.scopes.some((s) => facts.scopes.has(s))) return false;
  if (when.groups && !when.groups.some((g) => facts.groups.has(g))) return false;
  if (when.issuers && !(facts.issuer !== undefined && when.issuers.includes(facts.issuer))) return false;
  return true;
}

function stringsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

// ---- registration ----

/**
 * The registrant's email domain, normalised: `{domain}` when there is one, `"unreadable"` when the value has an @ but
 * its domain does not normalise (it is then denied by any list: it cannot be shown to be allowed, nor to be clear of
 * a deny list), undefined when there is no email at all.
 */
function registrantDomain(attributes: Record<string, unknown>): { domain: string } | "unreadable" | undefined {
  const email = attributes.email ?? attributes.login;
  if (typeof email !== "string" || !email.includes("@")) return undefined;
  const domain = emailDomain(email);
  return domain === undefined ? "unreadable" : { domain };
}

export async function decideRegistration(
  request: RegistrationHookRequest,
  rules: readonly Rule[],
): Promise<RuleDecision<"registration"> | null> {
  const submitted = submittedAttributes(request);
  const denials: { id: string; errorSummary: string; cause: ReturnType<typeof fieldError> }[] = [];
  for (const rule of rules) {
    if (!rule.enabled) continue;
    if (rule.kind === "registration.email-domain") {
      const d = rule.definition;
      const found = registrantDomain(submitted);
      const allowList = d.allow ?? [];
      // No email at all: refused only by an allow list (it cannot show the domain is allowed).
      const denied =
        found === undefined
          ? allowList.length > 0
          : found === "unreadable" ||
            (d.deny ?? []).some((p) => domainMatches(found.domain, p)) ||
            (allowList.length > 0 && !allowList.some((p) => domainMatches(found.domain, p)));
      if (denied) {
        const attribute = present(submitted.email) ? "email" : "login";
        denials.push({ id: rule.id, errorSummary: d.errorSummary, cause: fieldError(attribute, d.fieldMessage, "EMAIL_DOMAIN_NOT_ALLOWED") });
      }
    } else if (rule.kind === "registration.attribute-pattern") {
      const d = rule.definition;
      const value = submitted[d.attribute];
      const raw = typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
      // The whole value is tested (linear time, ./patterns.ts); a value past the cap is denied whatever the effect,
      // so no rule can be passed by making the value long.
      const denied =
        raw !== undefined && raw.length > MAX_PATTERN_INPUT_LENGTH
          ? true
          : (d.effect === "deny-if-match") === (raw !== undefined && patternFinds(d.pattern, d.ignoreCase, raw));
      if (denied) {
        denials.push({ id: rule.id, errorSummary: d.errorSummary, cause: fieldError(d.attribute, d.fieldMessage, d.reason ?? "INVALID_ATTRIBUTE") });
      }
    }
  }
  if (denials.length > 0) {
    const response: RegistrationHookResponse = denyRegistrationResponse(denials[0]!.errorSummary, denials.map((d) => d.cause));
    return { response, ruleIds: denials.map((d) => d.id) };
  }
  const defaults: Record<string, unknown> = {};
  const ruleIds: string[] = [];
  for (const rule of ofKind(rules, "registration.default-profile")) {
    let used = false;
    for (const [attribute, value] of Object.entries(rule.definition.values)) {
      if (present(submitted[attribute]) || attribute in defaults) continue;
      defaults[attribute] = value;
      used = true;
    }
    if (used) ruleIds.push(rule.id);
  }
  if (ruleIds.length === 0) return null;
  const command =
    registrationRequestKind(request) === "progressive"
      ? updateProgressiveProfile(defaults, request)
      : updateProfile(defaults, request);
  return { response: { commands: [command] }, ruleIds };
}

// ---- token ----

function tokenFacts(request: TokenHookRequest): Facts {
  const { context, identity, access } = request.data;
  const scopes = new Set([...Object.keys(access?.scopes ?? {}), ...(context.protocol?.request?.scope ?? "").split(" ").filter(Boolean)]);
  const groups = new Set([...stringsOf(identity?.claims?.groups), ...stringsOf(access?.claims?.groups)]);
  return {
    profile: context.user?.profile ?? {},
    userId: context.user?.id ?? undefined,
    clientId: context.protocol?.client?.id ?? context.protocol?.request?.client_id ?? undefined,
    scopes,
    groups,
    issuer: context.protocol?.issuer?.uri ?? undefined,
  };
}

export async function decideToken(request: TokenHookRequest, rules: readonly Rule[], lookup: Lookup): Promise<RuleDecision<"token"> | null> {
  const facts = tokenFacts(request);
  const ops: Record<"identity" | "access", TokenPatchOp[]> = { identity: [], access: [] };
  const seen = new Set<string>();
  const ruleIds: string[] = [];
  for (const rule of ofKind(rules, "token.claim")) {
    const { token, claim, value, when } = rule.definition;
    if (!request.data[token] || seen.has(`${token}:${claim}`) || !conditionsHold(when, facts)) continue;
    const resolved = await resolveValue(value, facts, lookup);
    if (resolved === undefined || resolved === null) continue;
    seen.add(`${token}:${claim}`);
    ops[token].push(addClaim(claim, resolved));
    ruleIds.push(rule.id);
  }
  const commands: TokenCommand[] = [];
  if (ops.identity.length > 0) commands.push(identityPatch(ops.identity, request));
  if (ops.access.length > 0) commands.push(accessPatch(ops.access, request));
  if (commands.length === 0) return null;
  const response: TokenHookResponse = { commands };
  return { response, ruleIds };
}

// ---- SAML ----

function samlFacts(request: SamlHookRequest): Facts {
  const { context, assertion } = request.data;
  const groupValues = assertion.claims?.groups?.attributeValues ?? [];
  return {
    profile: context.user?.profile ?? {},
    userId: context.user?.id ?? undefined,
    clientId: context.protocol?.issuer?.id ?? undefined,
    scopes: new Set(),
    groups: new Set(groupValues.flatMap((v) => stringsOf(v.value))),
    issuer: context.protocol?.issuer?.uri ?? undefined,
  };
}

export async function decideSaml(request: SamlHookRequest, rules: readonly Rule[], lookup: Lookup): Promise<RuleDecision<"saml"> | null> {
  const facts = samlFacts(request);
  const ops: SamlPatchOp[] = [];
  const seen = new Set<string>();
  const ruleIds: string[] = [];
  for (const rule of ofKind(rules, "saml.attribute")) {
    const d = rule.definition;
    if (seen.has(d.attribute) || !conditionsHold(d.when, facts)) continue;
    const resolved = await resolveValue(d.value, facts, lookup);
    const values = (Array.isArray(resolved) ? resolved : [resolved]).filter((v) => v !== undefined && v !== null);
    if (values.length === 0) continue;
    seen.add(d.attribute);
    const scalar = (v: unknown) => (typeof v === "object" ? JSON.stringify(v) : v);
    ops.push(samlAddAttribute(d.attribute, values.map((v) => ({ value: scalar(v), xsiType: d.xsiType })), d.nameFormat));
    ruleIds.push(rule.id);
  }
  if (ops.length === 0) return null;
  const response: SamlHookResponse = { commands: [assertionPatch(ops)] };
  return { response, ruleIds };
}

// ---- user import ----

export async function decideUserImport(
  request: UserImportHookRequest,
  rules: readonly Rule[],
  lookup: Lookup,
): Promise<RuleDecision<"user-import"> | null> {
  const profile = request.data.appUser?.profile ?? {};
  for (const rule of ofKind(rules, "user-import.link-by-attribute")) {
    const d = rule.definition;
    const raw = profile[d.appUserAttribute];
    if (!present(raw) || typeof raw === "object") continue;
    const key = d.lowercaseKey ? String(raw).toLowerCase() : String(raw);
    const found = await lookup(d.table, key);
    const oktaUserId = typeof found === "string" ? found : (found as { id?: unknown } | undefined)?.id;
    if (typeof oktaUserId !== "string" || oktaUserId === "") continue;
    const response: UserImportHookResponse = { commands: linkUser(oktaUserId) };
    return { response, ruleIds: [rule.id] };
  }
  return null;
}

/** The rules' decision for any type, or null when no rule applies (or the type has no rule kinds). */
export async function decideByRules<T extends InlineHookType>(
  type: T,
  request: InlineHookRequest<T>,
  rules: readonly Rule[],
  lookup: Lookup,
): Promise<RuleDecision<T> | null> {
  switch (type) {
    case "registration":
      return (await decideRegistration(request as RegistrationHookRequest, rules)) as RuleDecision<T> | null;
    case "token":
      return (await decideToken(request as TokenHookRequest, rules, lookup)) as RuleDecision<T> | null;
    case "saml":
      return (await decideSaml(request as SamlHookRequest, rules, lookup)) as RuleDecision<T> | null;
    case "user-import":
      return (await decideUserImport(request as UserImportHookRequest, rules, lookup)) as RuleDecision<T> | null;
    default:
      return null;
  }
}
