/**
 * POST /hooks/inline/<type> with every inline hook request example Okta documents (root, openapi/, captured/):
 * each gets an answer Okta accepts — 204, or 200 with a body valid for that type — and is recorded. Then the
 * requests we cannot use (Okta expects HTTP errors only when the request itself can't be parsed:
 * https://developer.okta.com/docs/concepts/inline-hooks/).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INLINE_HOOK_SCHEMAS } from "../../src/okta/inline/index";
import { listInlineCalls } from "../../src/storage/inline-calls";
import { fixture, requestFixtures } from "../helpers/fixtures";
import { INLINE_SECRET, callWorker, postInline } from "../helpers/inline";

/** What each type answers with no rule and no handler (the per-type default). */
const DEFAULT_STATUS = { token: 204, registration: 204, "password-import": 200, saml: 204, "user-import": 204, telephony: 200 };

describe("every documented inline hook request", () => {
  it("covers all six types", () => {
    expect(new Set(requestFixtures.map((f) => f.type)).size).toBe(6);
    expect(requestFixtures.length).toBeGreaterThanOrEqual(14);
  });

  for (const { name, type, body } of requestFixtures) {
    it(`${name} → /hooks/inline/${type} answers in Okta's format`, async () => {
      const res = await postInline(type, body);
      expect(res.status).toBe(DEFAULT_STATUS[type]);
      if (res.status === 200) {
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        const parsed = INLINE_HOOK_SCHEMAS[type].response.safeParse(await res.json());
        expect(parsed.error?.issues ?? []).toEqual([]);
      } else {
        expect(await res.text()).toBe("");
      }
    });
  }

  it("password import without a credential store answers UNVERIFIED; telephony without a provider answers FAILED", async () => {
    const pwd = await postInline("password-import", fixture("password-import-hook.request.json"));
    expect(await pwd.json()).toEqual({ commands: [{ type: "com.okta.action.update", value: { credential: "UNVERIFIED" } }] });
    const tel = await postInline("telephony", fixture("telephony-hook.request.json"));
    expect(await tel.json()).toEqual({ commands: [{ type: "com.okta.telephony.action", value: [{ status: "FAILED" }] }] });
  });

  it("records each call without the password, OTP code, phone number or token claims", async () => {
    const captured = fixture("captured/registration-hook.request.classic-ssr.json");
    await postInline("password-import", fixture("password-import-hook.request.json"), { headers: { "x-okta-request-id": "req-pwd-1" } });
    await postInline("telephony", fixture("telephony-hook.request.json"));
    await postInline("token", fixture("token-hook.request.json"));
    await postInline("registration", captured);
    const results = (await listInlineCalls(env.DB, { limit: 4 })).calls.reverse();
    expect(results.map((r) => [r.hookType, r.decision, r.decidedBy, r.status])).toEqual([
      ["password-import", "UNVERIFIED", "default", 200],
      ["telephony", "FAILED", "default", 200],
      ["token", "empty", "default", 204],
      ["registration", "empty", "default", 204],
    ]);
    expect(results[0]).toMatchObject({ oktaRequestId: "req-pwd-1", eventId: "3o9jBzq1SmOGmmsDsqyyeQ", fallbackReason: null });
    expect(results[1]).toMatchObject({ oktaRequestId: "reqRgSk8IBBRhuo0YdlEDTmUw", requestType: "com.okta.user.telephony.pre-enrollment" });
    expect(results[3]).toMatchObject({ oktaRequestId: "Xa87Lk0UCZ2i524oTJp@IgAABzM" });
    // What is stored, not only what the reader returns.
    const stored = await env.DB.prepare("SELECT calls FROM inline_call_batches").all<{ calls: string }>();
    const rows = JSON.stringify(stored.results);
    for (const secret of ["Okta", "11111", "9876543210", "(HOOK)", "ID.YxF2wh", "AT.W-rrB", "isaac.brock", INLINE_SECRET]) {
      expect(rows).not.toContain(secret);
    }
  });
});

describe("requests we cannot use get our JSON error", () => {
  const token = () => fixture("token-hook.request.json") as Record<string, unknown>;

  it("400 when eventType does not match the route", async () => {
    const res = await postInline("registration", token());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: "invalid_body",
        message:
          'eventType "com.okta.oauth2.tokens.transform" does not match this route: /hooks/inline/registration takes "com.okta.user.pre-registration".',
      },
    });
  });

  it("400 when eventType is missing", async () => {
    const body = token();
    delete body.eventType;
    const res = await postInline("token", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^eventType missing/);
  });

  it("400 when the body is not the shape Okta documents (names the field)", async () => {
    const pwd = fixture("password-import-hook.request.json") as { data: { context: { credential?: unknown } } };
    delete pwd.data.context.credential;
    const res = await postInline("password-import", pwd);
    expect(res.status).toBe(400);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toContain("data.context.credential");
  });

  it("400 on malformed JSON, on a JSON array, on an empty body", async () => {
    for (const rawBody of ['{"eventType":', "[]", ""]) {
      const res = await postInline("token", null, { rawBody });
      expect(res.status, rawBody).toBe(400);
    }
  });

  it("415 when not JSON", async () => {
    const res = await postInline("token", token(), { headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(415);
  });

  it("413 when larger than MAX_BODY_BYTES", async () => {
    const big = { ...token(), padding: "x".repeat(5000) };
    const res = await postInline("token", big, { vars: { MAX_BODY_BYTES: "4096" } });
    expect(res.status).toBe(413);
  });

  it("413 too when a body is longer than the Content-Length it declared (never read past the limit unchecked)", async () => {
    const big = JSON.stringify({ ...token(), padding: "x".repeat(5000) });
    const res = await postInline("token", null, { rawBody: big, headers: { "content-length": "100" }, vars: { MAX_BODY_BYTES: "4096" } });
    expect(res.status).toBe(413);
  });

  it("a body with a declared Content-Length within the limit is read whole", async () => {
    const body = JSON.stringify(token());
    const res = await postInline("token", null, { rawBody: body, headers: { "content-length": String(new TextEncoder().encode(body).byteLength) } });
    expect(res.status).toBe(204);
  });

  it("404 for an unknown type and for GET", async () => {
    expect((await postInline("not-a-type", token())).status).toBe(404);
    const get = new Request("https://gateway.test/hooks/inline/token", { headers: { authorization: INLINE_SECRET } });
    expect((await callWorker(get)).status).toBe(404);
  });
});
