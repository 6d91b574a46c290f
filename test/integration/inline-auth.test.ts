/**
 * Authentication of inline hook calls (https://developer.okta.com/docs/guides/secure-hooks/main/): the header secret
 * with rotation, and Okta's OAuth 2.0 bearer
 * JWT verified against the issuer's JWKS (served here by a stubbed fetch), RS256 only.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { JWT_CLOCK_SKEW_SECONDS, verifyJwt, type KeyLookup } from "../../src/http/oauth-bearer/jwt";
import { fixture } from "../helpers/fixtures";
import { postInline } from "../helpers/inline";
import { generateSigningKey, signJwt, unsignedJwt, type SigningKey } from "../helpers/jwt";

const tokenRequest = () => fixture("token-hook.request.json");
const AUDIENCE = "api://okta-hooks-edge";
const SCOPE = "okta.hooks";
const now = () => Math.floor(Date.now() / 1000);

let issuerCount = 0;

/** A fresh issuer (so the isolate's JWKS cache starts empty) whose JWKS the stubbed fetch serves. */
function oauthSetup(initialKeys: SigningKey[], secrets = "") {
  const issuer = `https://issuer-${++issuerCount}.example.com/oauth2/default`;
  const jwksUrl = `${issuer}/v1/keys`;
  let served = initialKeys;
  const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url !== jwksUrl) return new Response("not found", { status: 404 });
    return Response.json({ keys: served.map((k) => k.publicJwk) });
  });
  const vars = {
    INLINE_HOOK_SECRETS: secrets,
    INLINE_HOOK_OAUTH_ISSUER: issuer,
    INLINE_HOOK_OAUTH_AUDIENCE: AUDIENCE,
    INLINE_HOOK_OAUTH_SCOPE: SCOPE,
  };
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: issuer,
    aud: AUDIENCE,
    scp: [SCOPE],
    cid: "0oahookclient",
    iat: now(),
    exp: now() + 3600,
    ...extra,
  });
  const call = (token: string) => postInline("token", tokenRequest(), { vars, headers: { authorization: `Bearer ${token}` } });
  return { issuer, jwksUrl, vars, claims, call, fetchSpy, serve: (keys: SigningKey[]) => (served = keys) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("header secret", () => {
  it("401 without the header and with a wrong value, same body", async () => {
    const missing = await postInline("token", tokenRequest(), { headers: { authorization: "" } });
    const wrong = await postInline("token", tokenRequest(), { headers: { authorization: "not-the-secret" } });
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(await missing.json()).toEqual(await wrong.json());
  });

  it("accepts both secrets during a rotation, in the configured header", async () => {
    const vars = { INLINE_HOOK_SECRETS: "old-secret,new-secret", INLINE_HOOK_AUTH_HEADER: "X-Hook-Key" };
    for (const secret of ["old-secret", "new-secret"]) {
      const res = await postInline("token", tokenRequest(), { vars, headers: { "x-hook-key": secret } });
      expect(res.status).toBe(204);
    }
    expect((await postInline("token", tokenRequest(), { vars, headers: { "x-hook-key": "older-secret" } })).status).toBe(401);
  });

  it.each(["token", "registration", "password-import", "saml", "user-import", "telephony"])(
    "/hooks/inline/%s refuses a call without credentials before reading the body",
    async (type) => {
      const res = await postInline(type, null, { headers: { authorization: "" }, rawBody: "not json" });
      expect(res.status).toBe(401);
    },
  );

  it("503 when neither a secret nor OAuth is configured", async () => {
    const res = await postInline("token", tokenRequest(), { vars: { INLINE_HOOK_SECRETS: "" } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_configured");
  });
});

describe("OAuth 2.0 bearer JWT", () => {
  it("accepts a valid RS256 token and caches the JWKS in the isolate", async () => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    expect((await setup.call(await signJwt(key, setup.claims()))).status).toBe(204);
    expect((await setup.call(await signJwt(key, setup.claims()))).status).toBe(204);
    expect(setup.fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("accepts the scope as a space-separated `scope` string and `aud` as an array", async () => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    const token = await signJwt(key, setup.claims({ scp: undefined, scope: `openid ${SCOPE}`, aud: ["other", AUDIENCE] }));
    expect((await setup.call(token)).status).toBe(204);
  });

  it("works beside a header secret (either is enough)", async () => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key], "some-secret");
    expect((await setup.call(await signJwt(key, setup.claims()))).status).toBe(204);
    const bySecret = await postInline("token", tokenRequest(), { vars: setup.vars, headers: { authorization: "some-secret" } });
    expect(bySecret.status).toBe(204);
  });

  it.each([
    ["expired", { exp: -(JWT_CLOCK_SKEW_SECONDS + 60) }],
    ["not yet valid", { nbf: JWT_CLOCK_SKEW_SECONDS + 60 }],
    ["wrong issuer", { iss: "https://evil.example.com/oauth2/default" }],
    ["wrong audience", { aud: "api://default" }],
    ["missing scope", { scp: ["openid"] }],
  ])("401 when %s", async (_, change) => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    const relative = Object.fromEntries(
      Object.entries(change).map(([k, v]) => [k, k === "exp" || k === "nbf" ? now() + (v as number) : v]),
    );
    const res = await setup.call(await signJwt(key, setup.claims(relative)));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Missing or invalid credentials." } });
  });

  it("tolerates the named clock skew on exp", async () => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    const res = await setup.call(await signJwt(key, setup.claims({ exp: now() - (JWT_CLOCK_SKEW_SECONDS - 10) })));
    expect(res.status).toBe(204);
  });

  it("401 for alg none, HS256, and a signature from another key", async () => {
    const key = await generateSigningKey("k1");
    const impostor = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    expect((await setup.call(unsignedJwt({ alg: "none", kid: "k1" }, setup.claims()))).status).toBe(401);
    expect((await setup.call(unsignedJwt({ alg: "none", kid: "k1" }, setup.claims(), "c2ln"))).status).toBe(401);
    expect((await setup.call(unsignedJwt({ alg: "HS256", kid: "k1" }, setup.claims(), "c2lnbmF0dXJl"))).status).toBe(401);
    expect((await setup.call(await signJwt(impostor, setup.claims()))).status).toBe(401);
  });

  it("refetches the JWKS once when Okta rotates to an unknown kid", async () => {
    const k1 = await generateSigningKey("k1");
    const k2 = await generateSigningKey("k2");
    const setup = oauthSetup([k1]);
    expect((await setup.call(await signJwt(k1, setup.claims()))).status).toBe(204);
    setup.serve([k1, k2]);
    expect((await setup.call(await signJwt(k2, setup.claims()))).status).toBe(204);
    expect(setup.fetchSpy).toHaveBeenCalledTimes(2);
  });

  it("an unknown kid costs at most one refetch per interval", async () => {
    const k1 = await generateSigningKey("k1");
    const stranger = await generateSigningKey("k9");
    const setup = oauthSetup([k1]);
    // First call: the initial fetch; k9 is not in it.
    expect((await setup.call(await signJwt(stranger, setup.claims()))).status).toBe(401);
    expect(setup.fetchSpy).toHaveBeenCalledTimes(1);
    // Second call: one refetch for the unknown kid.
    expect((await setup.call(await signJwt(stranger, setup.claims()))).status).toBe(401);
    expect(setup.fetchSpy).toHaveBeenCalledTimes(2);
    // Further calls inside the interval: no more fetches.
    expect((await setup.call(await signJwt(stranger, setup.claims()))).status).toBe(401);
    expect((await setup.call(await signJwt(stranger, setup.claims()))).status).toBe(401);
    expect(setup.fetchSpy).toHaveBeenCalledTimes(2);
  });

  it("401 when the JWKS cannot be fetched", async () => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    setup.fetchSpy.mockImplementation(async () => new Response("down", { status: 503 }));
    expect((await setup.call(await signJwt(key, setup.claims()))).status).toBe(401);
  });

  it("half-configured OAuth refuses bearer tokens (and with no secret, the route is not configured)", async () => {
    const key = await generateSigningKey("k1");
    const setup = oauthSetup([key]);
    const res = await postInline("token", tokenRequest(), {
      vars: { ...setup.vars, INLINE_HOOK_OAUTH_SCOPE: "" },
      headers: { authorization: `Bearer ${await signJwt(key, setup.claims())}` },
    });
    expect(res.status).toBe(503);
  });
});

describe("verifyJwt reasons (the tags the log line carries)", () => {
  const expected = { issuer: "https://iss.example.com", audience: AUDIENCE, scope: SCOPE };
  const base = () => ({ iss: expected.issuer, aud: AUDIENCE, scp: [SCOPE], exp: now() + 60 });

  it.each([
    ["malformed", "not-a-jwt"],
    ["malformed", "a.b"],
  ])("%s: %s", async (reason, token) => {
    const lookup: KeyLookup = async () => ({ ok: false, reason: "unknown_kid" });
    expect(await verifyJwt(token, expected, lookup, now())).toEqual({ ok: false, reason });
  });

  it("tags each failure", async () => {
    const key = await generateSigningKey("k1");
    const lookup: KeyLookup = async (kid) =>
      kid === "k1"
        ? { ok: true, value: await crypto.subtle.importKey("jwk", key.publicJwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]) }
        : { ok: false, reason: kid === "k3" ? "jwks_unavailable" : "unknown_kid" };
    const t = now();
    const cases: Array<[string, string]> = [
      ["alg_not_allowed", unsignedJwt({ alg: "none", kid: "k1" }, base(), "eA")],
      ["alg_not_allowed", unsignedJwt({ alg: "RS512", kid: "k1" }, base(), "eA")],
      ["missing_kid", unsignedJwt({ alg: "RS256" }, base(), "eA")],
      ["wrong_issuer", await signJwt(key, { ...base(), iss: "x" })],
      ["wrong_audience", await signJwt(key, { ...base(), aud: "x" })],
      ["expired", await signJwt(key, { ...base(), exp: undefined })],
      ["expired", await signJwt(key, { ...base(), exp: t - 3600 })],
      ["not_yet_valid", await signJwt(key, { ...base(), nbf: t + 3600 })],
      ["missing_scope", await signJwt(key, { ...base(), scp: undefined })],
      ["unknown_kid", await signJwt({ ...key, kid: "k2" }, base())],
      ["jwks_unavailable", await signJwt({ ...key, kid: "k3" }, base())],
      ["bad_signature", unsignedJwt({ alg: "RS256", kid: "k1" }, base(), "c2lnbmF0dXJl")],
    ];
    for (const [reason, token] of cases) {
      expect(await verifyJwt(token, expected, lookup, t), reason).toEqual({ ok: false, reason });
    }
    const ok = await verifyJwt(await signJwt(key, base()), expected, lookup, t);
    expect(ok.ok).toBe(true);
  });
});
