/**
 * Synthesized System Log events (Okta's `LogEvent`, https://developer.okta.com/docs/reference/api/system-log/), one
 * for any event-hook-eligible type, shaped like the ones in Okta's docs and in captured deliveries
 * (test/fixtures/okta): an actor, targets that fit the type, an outcome, a client with user agent and geography, the
 * request's IP chain, authentication, security and debug context, and a transaction. IP addresses are from the
 * documentation ranges (RFC 5737), people and domains are made up.
 */
import type { EligibleEventType } from "./event-types.ts";
import type { Random } from "./random.ts";

export interface LogEventTarget {
  id: string;
  type: string;
  alternateId: string;
  displayName: string;
  detailEntry: null;
}

export interface SimulatedLogEvent {
  uuid: string;
  published: string;
  eventType: string;
  version: string;
  severity: "INFO" | "WARN";
  legacyEventType: string | null;
  displayMessage: string;
  actor: { id: string; type: string; alternateId: string; displayName: string; detailEntry: null };
  client: Record<string, unknown>;
  device: null;
  authenticationContext: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  insertionTimestamp: null;
  outcome: { result: string; reason: string | null };
  target: LogEventTarget[];
  transaction: { type: "WEB" | "JOB"; id: string; detail: Record<string, unknown> };
  debugContext: { debugData: Record<string, unknown> };
  request: { ipChain: Array<Record<string, unknown>> };
}

const PEOPLE = [
  ["Isabella", "Reyes"], ["Kenji", "Watanabe"], ["Amara", "Okafor"], ["Lukas", "Schneider"], ["Priya", "Raman"],
  ["Mateo", "Silva"], ["Chloe", "Martin"], ["Omar", "Haddad"], ["Sofia", "Rossi"], ["Noah", "Bennett"],
] as const;

const PLACES = [
  { city: "San Francisco", state: "California", country: "United States", postalCode: "94105", lat: 37.7852, lon: -122.3874 },
  { city: "Chicago", state: "Illinois", country: "United States", postalCode: "60602", lat: 41.8835, lon: -87.6305 },
  { city: "London", state: "England", country: "United Kingdom", postalCode: "EC2A", lat: 51.5222, lon: -0.0827 },
  { city: "Toronto", state: "Ontario", country: "Canada", postalCode: "M5H", lat: 43.6509, lon: -79.3832 },
  { city: "Sydney", state: "New South Wales", country: "Australia", postalCode: "2000", lat: -33.8688, lon: 151.2093 },
] as const;

const USER_AGENTS = [
  { raw: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", os: "Mac OS X", browser: "CHROME" },
  { raw: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", os: "Windows 10", browser: "EDGE_CHROMIUM" },
  { raw: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", os: "iOS", browser: "SAFARI" },
  { raw: "okta-sdk-java/8.2.5 java/17.0.9 Linux/6.1.0", os: "Linux", browser: "UNKNOWN" },
] as const;

const APPS = ["Salesforce", "Slack", "Workday", "GitHub Enterprise", "Zoom"] as const;

/** Target object types by event type prefix (longest prefix first); the rest get a type named after the type's second part. */
const TARGETS_BY_PREFIX: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["group.user_membership.", ["User", "UserGroup"]],
  ["group.application_assignment.", ["UserGroup", "AppInstance"]],
  ["group.", ["UserGroup"]],
  ["application.user_membership.", ["AppUser", "AppInstance"]],
  ["app.user_management.", ["AppUser", "AppInstance"]],
  ["application.", ["AppInstance"]],
  ["app.oauth2.", ["AppInstance"]],
  ["app.", ["AppInstance"]],
  ["policy.rule.", ["PolicyRule", "PolicyEntity"]],
  ["policy.", ["PolicyEntity"]],
  ["device.user.", ["Device", "User"]],
  ["device.", ["Device"]],
  ["user.session.", ["User"]],
  ["user.", ["User"]],
  ["system.sms.", ["User"]],
  ["system.voice.", ["User"]],
  ["system.email.", ["User"]],
  ["iam.role.", ["ROLE"]],
  ["iam.resourceset.", ["RESOURCE_SET"]],
  ["access.request.", ["AccessRequest"]],
  ["access.review.", ["AccessReview"]],
  ["security.authenticator.", ["Authenticator"]],
  ["inline_hook.", ["InlineHook"]],
];

/** Event types that describe the user acting on their own account: the actor is the end user, not an admin. */
const SELF_SERVICE = ["user.session.", "user.authentication.", "user.mfa.", "user.account.", "user.credential.", "user.risk.", "user.behavior", "user.chrome", "user.identity_verification"];

function pascal(word: string): string {
  return word.split(/[_-]/).map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : "")).join("");
}

function targetTypes(eventType: string): readonly string[] {
  const found = TARGETS_BY_PREFIX.find(([prefix]) => eventType.startsWith(prefix));
  if (found) return found[1];
  const second = eventType.split(".")[1] ?? "resource";
  return [pascal(second)];
}

/** Okta's catalog description's first sentence, as the event's human-readable message. */
function displayMessage(type: EligibleEventType): string {
  const first = type.description.split(/(?<=\.)\s/)[0]?.replace(/\.$/, "") ?? type.eventType;
  return first.length > 120 ? `${first.slice(0, 117)}...` : first || type.eventType;
}

function outcomeFor(eventType: string, r: Random): { result: string; reason: string | null } {
  if (/\.(deny|reject|fail|failure|lock|lockout)(\.|$)/.test(eventType)) return { result: "FAILURE", reason: "Denied by policy" };
  if (eventType.startsWith("policy.evaluate")) return { result: r.pick(["ALLOW", "ALLOW", "CHALLENGE", "DENY"]), reason: null };
  if (/^user\.(session|authentication|mfa)\./.test(eventType) && r.chance(0.15)) {
    return { result: "FAILURE", reason: r.pick(["INVALID_CREDENTIALS", "VERIFICATION_ERROR", "LOCKED_OUT"]) };
  }
  return { result: "SUCCESS", reason: null };
}

export interface Person {
  id: string;
  login: string;
  displayName: string;
}

export interface SimulatedOrg {
  /** e.g. "acme-sim.okta.com" */
  domain: string;
  emailDomain: string;
  people: Person[];
  admin: Person;
}

export function simulatedOrg(r: Random, domain = "sim-acme.okta.com"): SimulatedOrg {
  const emailDomain = "acme.example";
  const people = PEOPLE.map(([first, last]) => ({
    id: r.oktaId("00u"),
    login: `${first.toLowerCase()}.${last.toLowerCase()}@${emailDomain}`,
    displayName: `${first} ${last}`,
  }));
  return { domain, emailDomain, people, admin: { id: r.oktaId("00u"), login: `it-admin@${emailDomain}`, displayName: "IT Admin" } };
}

function target(type: string, r: Random, person: Person): LogEventTarget {
  switch (type) {
    case "User":
    case "AppUser":
      return { id: type === "User" ? person.id : r.oktaId("0ua"), type, alternateId: person.login, displayName: person.displayName, detailEntry: null };
    case "UserGroup": {
      const name = r.pick(["Engineering", "Sales", "Finance", "Contractors", "Everyone"]);
      return { id: r.oktaId("00g"), type, alternateId: "unknown", displayName: name, detailEntry: null };
    }
    case "AppInstance": {
      const app = r.pick(APPS);
      return { id: r.oktaId("0oa"), type, alternateId: app, displayName: app, detailEntry: null };
    }
    default: {
      const id = r.oktaId(type === "PolicyRule" ? "0pr" : type === "PolicyEntity" ? "00p" : "0x" + type[0]!.toLowerCase());
      return { id, type, alternateId: "unknown", displayName: `${type} ${r.token(4)}`, detailEntry: null };
    }
  }
}

/** One LogEvent of `type`, published at `publishedMs`. */
export function simulatedLogEvent(type: EligibleEventType, publishedMs: number, r: Random, org: SimulatedOrg): SimulatedLogEvent {
  const person = r.pick(org.people);
  const selfService = SELF_SERVICE.some((p) => type.eventType.startsWith(p));
  const actorPerson = selfService ? person : org.admin;
  const place = r.pick(PLACES);
  const agent = r.pick(USER_AGENTS);
  const ip = `${r.pick(["203.0.113", "198.51.100"])}.${r.int(1, 254)}`;
  const geographicalContext = {
    city: place.city,
    state: place.state,
    country: place.country,
    postalCode: place.postalCode,
    geolocation: { lat: place.lat, lon: place.lon },
  };
  const outcome = outcomeFor(type.eventType, r);
  const requestId = r.token(27);
  return {
    uuid: r.uuid(),
    published: new Date(publishedMs).toISOString(),
    eventType: type.eventType,
    version: "0",
    severity: outcome.result === "SUCCESS" || outcome.result === "ALLOW" ? "INFO" : "WARN",
    legacyEventType: null,
    displayMessage: displayMessage(type),
    actor: { id: actorPerson.id, type: "User", alternateId: actorPerson.login, displayName: actorPerson.displayName, detailEntry: null },
    client: {
      userAgent: { rawUserAgent: agent.raw, os: agent.os, browser: agent.browser },
      zone: "null",
      device: agent.os === "iOS" ? "Mobile" : "Computer",
      id: null,
      ipAddress: ip,
      geographicalContext,
      ipChain: [{ ip, geographicalContext, version: "V4", source: null }],
    },
    device: null,
    authenticationContext: {
      authenticationProvider: null,
      credentialProvider: null,
      credentialType: null,
      issuer: null,
      interface: null,
      authenticationStep: 0,
      externalSessionId: `idx${r.token(22)}`,
    },
    securityContext: { asNumber: 64496, asOrg: "example transit", isp: "example isp", domain: "example.net", isProxy: false },
    insertionTimestamp: null,
    outcome,
    target: targetTypes(type.eventType).map((t) => target(t, r, person)),
    transaction: { type: "WEB", id: requestId, detail: {} },
    debugContext: {
      debugData: { requestId, requestUri: "/api/v1/users", url: `/api/v1/users?activate=true`, dtHash: r.token(40).toLowerCase() },
    },
    request: { ipChain: [{ ip, geographicalContext, version: "V4", source: null }] },
  };
}
