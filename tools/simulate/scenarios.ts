/**
 * The simulator's scenarios: what Okta sends to an event hook (the verification GET, batched deliveries of every
 * selected event type, a duplicate across deliveries, a retry) and to each inline hook type. A scenario is a list
 * of steps, sent in order; each step knows how to check its answer against Okta's contract.
 */
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../src/okta/inline/common.ts";
import { checkDeliveryAnswer, checkVerificationAnswer } from "./contract/event-hook.ts";
import type { Answer, Finding } from "./contract/findings.ts";
import { checkInlineAnswer, describeInlineAnswer } from "./contract/inline.ts";
import { batchedDeliveries, duplicateDeliveries, retriedDelivery, type DeliveryContext, type SimulatedDelivery } from "./deliveries.ts";
import type { EligibleEventType } from "./event-types.ts";
import { inlineRequests } from "./inline-requests.ts";
import type { SimulatedOrg } from "./log-events.ts";
import { deliveryHeaders, inlineHeaders, verificationHeaders, type HookAuth } from "./okta-headers.ts";
import type { OutgoingRequest } from "./http.ts";
import type { Random } from "./random.ts";

export interface Step {
  scenario: string;
  label: string;
  request: OutgoingRequest;
  check(answer: Answer): Finding[];
  /** What the answer decided, in a few words (inline hooks). */
  describe?(answer: Answer): string;
  /** Event uuids this step delivers. */
  uuids?: string[];
}

export interface ScenarioContext {
  baseUrl: string;
  eventAuth: HookAuth | null;
  inlineAuth: HookAuth | null;
  random: Random;
  org: SimulatedOrg;
  eventHookId: string;
  now: number;
  /** The event types deliveries carry. */
  types: readonly EligibleEventType[];
  maxBatch: number;
}

export type ScenarioName = "verify" | "events" | "duplicates" | "retry" | InlineHookType;

export interface Scenario {
  name: ScenarioName;
  description: string;
  auth: "event" | "inline";
  steps(ctx: ScenarioContext): Step[];
}

function required(auth: HookAuth | null, which: "event" | "inline"): HookAuth {
  if (!auth) throw new Error(`no ${which} hook secret`);
  return auth;
}

function deliverySteps(scenario: ScenarioName, ctx: ScenarioContext, deliveries: SimulatedDelivery[]): Step[] {
  const auth = required(ctx.eventAuth, "event");
  return deliveries.map((d) => ({
    scenario,
    label: d.label,
    request: { method: "POST", url: `${ctx.baseUrl}/hooks/events`, headers: deliveryHeaders(auth, ctx.eventHookId), body: d.body },
    check: (answer) => checkDeliveryAnswer(d.uuids.length, answer),
    uuids: d.uuids,
  }));
}

function deliveryContext(ctx: ScenarioContext): DeliveryContext {
  return { random: ctx.random, org: ctx.org, eventHookId: ctx.eventHookId, now: ctx.now };
}

const EVENT_SCENARIOS: Scenario[] = [
  {
    name: "verify",
    description: "the one-time verification GET with x-okta-verification-challenge",
    auth: "event",
    steps: (ctx) => {
      const auth = required(ctx.eventAuth, "event");
      const challenge = ctx.random.token(40);
      const requestId = ctx.random.token(27);
      return [
        {
          scenario: "verify",
          label: "verification challenge",
          request: { method: "GET", url: `${ctx.baseUrl}/hooks/events`, headers: verificationHeaders(auth, challenge, requestId) },
          check: (answer) => checkVerificationAnswer(challenge, answer),
        },
      ];
    },
  },
  {
    name: "events",
    description: "one event of every selected event-hook-eligible type, batched as Okta batches them",
    auth: "event",
    steps: (ctx) => deliverySteps("events", ctx, batchedDeliveries(deliveryContext(ctx), ctx.types, ctx.maxBatch)),
  },
  {
    name: "duplicates",
    description: "an event delivered again inside another delivery (Okta is at-least-once)",
    auth: "event",
    steps: (ctx) => deliverySteps("duplicates", ctx, duplicateDeliveries(deliveryContext(ctx), ctx.types)),
  },
  {
    name: "retry",
    description: "a delivery sent twice, byte for byte (Okta's retry after a timeout or 5xx)",
    auth: "event",
    steps: (ctx) => deliverySteps("retry", ctx, retriedDelivery(deliveryContext(ctx), ctx.types)),
  },
];

const INLINE_DESCRIPTIONS: Record<InlineHookType, string> = {
  token: "token inline hook: ID and access token, ID token only, access token only",
  registration: "registration inline hook: self-service (Identity and Classic Engine) and progressive profiling",
  "password-import": "password import inline hook: an imported user's first sign-in",
  saml: "SAML assertion inline hook",
  "user-import": "user import inline hook: a new user and one matched to an existing user",
  telephony: "telephony inline hook: enrollment, MFA, unlock and reset, by SMS and voice",
};

const INLINE_SCENARIOS: Scenario[] = INLINE_HOOK_TYPES.map((type) => ({
  name: type,
  description: INLINE_DESCRIPTIONS[type],
  auth: "inline" as const,
  steps: (ctx: ScenarioContext): Step[] => {
    const auth = required(ctx.inlineAuth, "inline");
    return inlineRequests({ random: ctx.random, org: ctx.org, now: ctx.now }, type).map((r) => ({
      scenario: type,
      label: r.label,
      request: { method: "POST", url: `${ctx.baseUrl}/hooks/inline/${type}`, headers: inlineHeaders(auth, r.oktaRequestId), body: r.body },
      check: (answer: Answer) => checkInlineAnswer(r, answer),
      describe: describeInlineAnswer,
    }));
  },
}));

export const SCENARIOS: readonly Scenario[] = [...EVENT_SCENARIOS, ...INLINE_SCENARIOS];

/** Names that stand for several scenarios. */
export const SCENARIO_GROUPS: Record<string, readonly ScenarioName[]> = {
  all: SCENARIOS.map((s) => s.name),
  "event-hook": ["verify", "events", "duplicates", "retry"],
  inline: INLINE_HOOK_TYPES,
};

/** The scenarios named (or in the groups named), in their canonical order; all when none is named. */
export function selectScenarios(names: readonly string[]): Scenario[] {
  const wanted = new Set<string>();
  for (const name of names.length === 0 ? ["all"] : names) {
    const group = SCENARIO_GROUPS[name];
    if (group) for (const n of group) wanted.add(n);
    else if (SCENARIOS.some((s) => s.name === name)) wanted.add(name);
    else {
      const known = [...Object.keys(SCENARIO_GROUPS), ...SCENARIOS.map((s) => s.name)].join(", ");
      throw new Error(`unknown scenario "${name}" (known: ${known})`);
    }
  }
  return SCENARIOS.filter((s) => wanted.has(s.name));
}
