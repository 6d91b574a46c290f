/**
 * Inline hook requests as Okta sends them, one or more per type, built from Okta's documented examples and a
 * captured production request (test/fixtures/okta, sources in its SOURCES.md) with this run's ids, times and org:
 * a fresh `eventId` and `eventTime`, `data.context.request.id` equal to the `x-okta-request-id` header (as captured),
 * and the variants each type has in practice — tokens requested or not, self-service registration and progressive
 * profiling (Identity and Classic Engine), a user import matched to an existing user, every telephony request type
 * over SMS and voice. Passwords and OTP codes are random per run and never printed.
 */
import { readFileSync } from "node:fs";
import type { InlineHookType } from "../../src/okta/inline/common.ts";
import type { Random } from "./random.ts";
import type { SimulatedOrg } from "./log-events.ts";

const FIXTURES = new URL("../../test/fixtures/okta/", import.meta.url);

export interface SimulatedInlineRequest {
  type: InlineHookType;
  /** e.g. "ID token only". */
  label: string;
  /** x-okta-request-id, also data.context.request.id. */
  oktaRequestId: string;
  body: string;
  /** The parsed body, for checks that depend on what was asked (which tokens, which registration kind). */
  request: Record<string, any>;
}

export interface InlineContext {
  random: Random;
  org: SimulatedOrg;
  now: number;
}

function fixture(ctx: InlineContext, name: string): Record<string, any> {
  const text = readFileSync(new URL(name, FIXTURES), "utf8").replaceAll("${yourOktaDomain}", ctx.org.domain).replaceAll("{yourOktaDomain}", ctx.org.domain);
  return JSON.parse(text) as Record<string, any>;
}

/** Okta request ids look like "Xa87Lk0UCZ2i524oTJp@IgAABzM": 27 characters. */
function oktaRequestId(r: Random): string {
  return `${r.token(19)}@${r.token(3)}AAB${r.token(1)}`;
}

function finish(ctx: InlineContext, type: InlineHookType, label: string, request: Record<string, any>): SimulatedInlineRequest {
  const id = oktaRequestId(ctx.random);
  request.eventId = ctx.random.uuid();
  request.eventTime = new Date(ctx.now).toISOString();
  if (request.data?.context?.request) request.data.context.request.id = id;
  return { type, label, oktaRequestId: id, body: JSON.stringify(request), request };
}

function tokenRequests(ctx: InlineContext): SimulatedInlineRequest[] {
  const both = fixture(ctx, "token-hook.request.json");
  const idOnly = fixture(ctx, "token-hook.request.json");
  delete idOnly.data.access;
  idOnly.data.context.protocol.request.response_type = "id_token";
  const accessOnly = fixture(ctx, "token-hook.request.json");
  delete accessOnly.data.identity;
  accessOnly.data.context.protocol.request.response_type = "token";
  accessOnly.data.context.protocol.request.scope = "profile email";
  return [
    finish(ctx, "token", "ID and access token", both),
    finish(ctx, "token", "ID token only", idOnly),
    finish(ctx, "token", "access token only", accessOnly),
  ];
}

function registrationRequests(ctx: InlineContext): SimulatedInlineRequest[] {
  const person = ctx.random.pick(ctx.org.people);
  const [first, last] = person.displayName.split(" ");
  const ssr = fixture(ctx, "registration-hook.request.ssr.json");
  ssr.data.userProfile = { ...ssr.data.userProfile, firstName: first, lastName: last, email: person.login, login: person.login };
  return [
    finish(ctx, "registration", "self-service registration", ssr),
    finish(ctx, "registration", "self-service registration, outside the org's email domain", fixture(ctx, "registration-hook.request.ssr.json")),
    finish(ctx, "registration", "progressive profiling", fixture(ctx, "registration-hook.request.progressive-profile.json")),
    finish(ctx, "registration", "Classic Engine self-service registration (captured)", fixture(ctx, "captured/registration-hook.request.classic-ssr.json")),
  ];
}

function passwordImportRequests(ctx: InlineContext): SimulatedInlineRequest[] {
  const request = fixture(ctx, "password-import-hook.request.json");
  request.data.context.credential = { username: ctx.random.pick(ctx.org.people).login, password: ctx.random.token(16) };
  return [finish(ctx, "password-import", "first sign-in of an imported user", request)];
}

function samlRequests(ctx: InlineContext): SimulatedInlineRequest[] {
  return [finish(ctx, "saml", "SP-initiated sign-in to a custom SAML app", fixture(ctx, "saml-hook.request.json"))];
}

function userImportRequests(ctx: InlineContext): SimulatedInlineRequest[] {
  const create = fixture(ctx, "user-import-hook.request.json");
  const matched = fixture(ctx, "user-import-hook.request.json");
  const person = ctx.random.pick(ctx.org.people);
  matched.data.action = { result: "LINK_USER" };
  matched.data.context.matches = [person.id];
  matched.data.user.id = person.id;
  return [
    finish(ctx, "user-import", "a new user (CREATE_USER)", create),
    finish(ctx, "user-import", "matched to an existing user (LINK_USER)", matched),
  ];
}

const TELEPHONY_VARIANTS = [
  ["com.okta.user.telephony.pre-enrollment", "SMS"],
  ["com.okta.user.telephony.mfa-verification", "voice call"],
  ["com.okta.user.telephony.account-unlock", "SMS"],
  ["com.okta.user.telephony.password-reset", "SMS"],
] as const;

function telephonyRequests(ctx: InlineContext): SimulatedInlineRequest[] {
  return TELEPHONY_VARIANTS.map(([requestType, channel]) => {
    const request = fixture(ctx, "telephony-hook.request.json");
    const person = ctx.random.pick(ctx.org.people);
    const code = String(ctx.random.int(100000, 999999));
    const [first, last] = person.displayName.split(" ");
    request.requestType = requestType;
    request.data.userProfile = { firstName: first, lastName: last, login: person.login, userId: person.id };
    request.data.messageProfile = {
      ...request.data.messageProfile,
      msgTemplate: `Your ${ctx.org.domain} verification code is ${code}`,
      phoneNumber: `+1555${ctx.random.int(1000000, 9999999)}`,
      otpExpires: new Date(ctx.now + 5 * 60_000).toISOString(),
      deliveryChannel: channel,
      otpCode: code,
    };
    return finish(ctx, "telephony", `${requestType.split(".").pop()} by ${channel}`, request);
  });
}

const BUILDERS: Record<InlineHookType, (ctx: InlineContext) => SimulatedInlineRequest[]> = {
  token: tokenRequests,
  registration: registrationRequests,
  "password-import": passwordImportRequests,
  saml: samlRequests,
  "user-import": userImportRequests,
  telephony: telephonyRequests,
};

export function inlineRequests(ctx: InlineContext, type: InlineHookType): SimulatedInlineRequest[] {
  return BUILDERS[type](ctx);
}
