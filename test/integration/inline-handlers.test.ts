/**
 * TypeScript handlers (src/handlers) and the deadline: a handler decides with the builders; when it throws, runs
 * past INLINE_HOOK_DEADLINE_MS or returns something Okta would refuse, the type's fallback answers instead
 * (what Okta does on a timeout, per type; INLINE_HOOK_FALLBACKS), and the audit row says why.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InlineHookHandlers } from "../../src/handlers/types";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../src/okta/inline/common";
import { INLINE_HOOK_SCHEMAS } from "../../src/okta/inline/index";
import { REGISTRATION_FALLBACK_SUMMARY, FALLBACK_ERROR_SUMMARY } from "../../src/okta/inline/outcomes";
import { credentialUnverified, credentialVerified } from "../../src/okta/inline/password-import";
import { denyRegistrationResponse, fieldError, updateProfile } from "../../src/okta/inline/registration";
import { assertionPatch, samlSessionLifetime } from "../../src/okta/inline/saml";
import { telephonyAction } from "../../src/okta/inline/telephony";
import { accessPatch, addClaim } from "../../src/okta/inline/token";
import { linkUser } from "../../src/okta/inline/user-import";
import { listInlineCalls, type InlineCallRecord } from "../../src/storage/inline-calls";
import { fixture } from "../helpers/fixtures";
import { postInline } from "../helpers/inline";

type Json = Record<string, any>;

const REQUESTS: Record<InlineHookType, string> = {
  token: "token-hook.request.json",
  registration: "registration-hook.request.ssr.json",
  "password-import": "password-import-hook.request.json",
  saml: "saml-hook.request.json",
  "user-import": "user-import-hook.request.json",
  telephony: "telephony-hook.request.json",
};

const UNVERIFIED = credentialUnverified();
const FAILED = { commands: [{ type: "com.okta.telephony.action", value: [{ status: "FAILED" }] }] };

/** Default fallbacks: what Okta itself does when a hook times out. */
const DEFAULT_FALLBACK: Record<InlineHookType, Json | null> = {
  token: null, // original token
  registration: denyRegistrationResponse(REGISTRATION_FALLBACK_SUMMARY), // Okta denies
  "password-import": UNVERIFIED, // sign-in fails, retried next time
  saml: null, // original assertion
  "user-import": null, // import continues
  telephony: FAILED, // Okta sends the OTP itself
};

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function call(type: InlineHookType, handlers: InlineHookHandlers, vars: Record<string, string> = {}) {
  const res = await postInline(type, fixture(REQUESTS[type]), { handlers, vars: { INLINE_HOOK_DEADLINE_MS: "150", ...vars } });
  const body = res.status === 204 ? null : ((await res.json()) as Json);
  if (body) expect(INLINE_HOOK_SCHEMAS[type].response.safeParse(body).success).toBe(true);
  return { status: res.status, body };
}

async function lastCall(): Promise<InlineCallRecord> {
  const { calls } = await listInlineCalls(env.DB, { limit: 1 });
  return calls[0]!;
}

describe("deadline and fallback, per type", () => {
  for (const type of INLINE_HOOK_TYPES) {
    it(`${type}: a handler still running at the deadline → fallback ${JSON.stringify(DEFAULT_FALLBACK[type]) ?? "204"}`, async () => {
      let aborted = false;
      const handlers = {
        [type]: async (_: unknown, ctx: { signal: AbortSignal }) => {
          await sleepUnlessAborted(5_000, ctx.signal);
          aborted = ctx.signal.aborted;
          return undefined;
        },
      } as InlineHookHandlers;
      const res = await call(type, handlers);
      expect(res.status).toBe(DEFAULT_FALLBACK[type] ? 200 : 204);
      expect(res.body).toEqual(DEFAULT_FALLBACK[type]);
      expect(await lastCall()).toMatchObject({ hookType: type, decidedBy: "fallback", fallbackReason: "deadline" });
      await new Promise((r) => setTimeout(r, 0));
      expect(aborted).toBe(true);
    });

    it(`${type}: a handler that throws → the same fallback`, async () => {
      const handlers = { [type]: () => { throw new Error("legacy system down"); } } as InlineHookHandlers;
      const res = await call(type, handlers);
      expect(res.body).toEqual(DEFAULT_FALLBACK[type]);
      expect(await lastCall()).toMatchObject({ hookType: type, decidedBy: "fallback", fallbackReason: "handler_error" });
    });
  }

  it("INLINE_HOOK_FALLBACKS turns token, SAML and user import closed and registration open", async () => {
    const vars = { INLINE_HOOK_FALLBACKS: "token=closed,saml=closed,user-import=closed,registration=open" };
    const failing = Object.fromEntries(INLINE_HOOK_TYPES.map((t) => [t, () => Promise.reject(new Error("boom"))])) as InlineHookHandlers;
    const closed = { error: { errorSummary: FALLBACK_ERROR_SUMMARY } };
    expect((await call("token", failing, vars)).body).toEqual(closed);
    expect((await call("saml", failing, vars)).body).toEqual(closed);
    expect((await call("user-import", failing, vars)).body).toEqual(closed);
    expect((await call("registration", failing, vars)).status).toBe(204);
  });

  it("password import can never fail open, telephony never closed", async () => {
    const vars = { INLINE_HOOK_FALLBACKS: "password-import=open,telephony=closed" };
    const failing = { "password-import": () => Promise.reject(new Error("x")), telephony: () => Promise.reject(new Error("x")) } as InlineHookHandlers;
    expect((await call("password-import", failing, vars)).body).toEqual(UNVERIFIED);
    expect((await call("telephony", failing, vars)).body).toEqual(FAILED);
  });

  it("D1 down (rules cannot load, the call cannot be recorded) → the fallback, never a 500", async () => {
    const broken = {
      prepare() {
        throw new Error("D1_ERROR: database unavailable");
      },
    } as unknown as D1Database;
    const token = await postInline("token", fixture(REQUESTS.token), { bindings: { DB: broken } });
    expect(token.status).toBe(204);
    const registration = await postInline("registration", fixture(REQUESTS.registration), { bindings: { DB: broken } });
    expect(await registration.json()).toEqual(DEFAULT_FALLBACK.registration);
  });

  it("a response Okta would refuse is never sent: invalid shape, or 256 KB and more", async () => {
    const invalid = { token: () => ({ commands: [{ type: "com.okta.identity.patch", value: [{ op: "add", path: "/claims/iss", value: "x" }] }] }) } as InlineHookHandlers;
    expect((await call("token", invalid)).status).toBe(204);
    expect(await lastCall()).toMatchObject({ fallbackReason: "invalid_response" });
    const huge = { token: () => ({ commands: [accessPatch([addClaim("blob", "x".repeat(300 * 1024))])] }) } as InlineHookHandlers;
    expect((await call("token", huge)).status).toBe(204);
    expect(await lastCall()).toMatchObject({ fallbackReason: "response_too_large" });
  });
});

describe("handlers decide with the builders", () => {
  it("one handler per type, recorded as decided by the handler", async () => {
    const handlers: InlineHookHandlers = {
      token: (request, ctx) => {
        expect(ctx.eventId).toBe("3OWo4oo-QQ-rBWfRyTmQYw");
        return { commands: [accessPatch([addClaim("department", request.data.context.user?.profile?.locale ?? "none")], request)] };
      },
      registration: (request) =>
        request.data.userProfile?.lastName === "Jones" ? denyRegistrationResponse("No Joneses.", [fieldError("lastName", "Try another name.")]) : undefined,
      "password-import": (request) => (request.data.context.credential.password === "Okta" ? credentialVerified() : credentialUnverified()),
      saml: () => ({ commands: [assertionPatch([samlSessionLifetime(600)])] }),
      "user-import": () => ({ commands: linkUser("00u9linked") }),
      telephony: (request) => telephonyAction("SUCCESSFUL", { provider: "test-sms", transactionId: `tx-${request.data.userProfile?.userId}` }),
    };
    const expected: Record<InlineHookType, string> = {
      token: "patch",
      registration: "DENY",
      "password-import": "VERIFIED",
      saml: "patch",
      "user-import": "LINK_USER",
      telephony: "SUCCESSFUL",
    };
    for (const type of INLINE_HOOK_TYPES) {
      const res = await call(type, handlers, { INLINE_HOOK_DEADLINE_MS: "2000" });
      expect(res.status, type).toBe(200);
      const row = await lastCall();
      expect(row, type).toMatchObject({ hookType: type, decidedBy: "handler", decision: expected[type], fallbackReason: null });
      const text = JSON.stringify(row);
      for (const secret of ["Okta", "11111", "9876543210", "America/Los_Angeles"]) expect(text, type).not.toContain(secret);
    }
  });

  it("a handler returning undefined keeps the default, and an empty telephony answer becomes FAILED", async () => {
    expect((await call("token", { token: () => undefined })).status).toBe(204);
    expect(await lastCall()).toMatchObject({ decidedBy: "default" });
    expect((await call("telephony", { telephony: () => ({}) })).body).toEqual(FAILED);
  });
});

describe("Okta's one retry gets the same answer", () => {
  function counting(): InlineHookHandlers {
    let n = 0;
    return {
      registration: () => ({ commands: [updateProfile({ attempt: ++n })] }),
      token: () => ({ commands: [accessPatch([addClaim("attempt", ++n)])] }),
    };
  }

  it("a non-deterministic handler's decision is repeated for the same registration request", async () => {
    const handlers = counting();
    const body = fixture(REQUESTS.registration) as Json;
    body.eventId = `retry-${crypto.randomUUID()}`;
    const first = await postInline("registration", body, { handlers });
    const second = await postInline("registration", body, { handlers });
    expect(await first.json()).toEqual({ commands: [{ type: "com.okta.user.profile.update", value: { attempt: 1 } }] });
    expect(await second.json()).toEqual({ commands: [{ type: "com.okta.user.profile.update", value: { attempt: 1 } }] });
    expect(await lastCall()).toMatchObject({ decidedBy: "repeat:handler" });
    const other = { ...body, eventId: `retry-${crypto.randomUUID()}` };
    expect(await (await postInline("registration", other, { handlers })).json()).toEqual({
      commands: [{ type: "com.okta.user.profile.update", value: { attempt: 2 } }],
    });
  });

  it("token hooks are never retried by Okta, so each call is decided afresh", async () => {
    const handlers = counting();
    const body = fixture(REQUESTS.token);
    const first = (await (await postInline("token", body, { handlers })).json()) as Json;
    const second = (await (await postInline("token", body, { handlers })).json()) as Json;
    expect([first.commands[0].value[0].value, second.commands[0].value[0].value]).toEqual([1, 2]);
  });
});
