/**
 * End to end: the real Worker (`wrangler dev`, local D1) answering inline hooks over HTTP as Okta calls them —
 * documented requests, a rule created through the admin API, and Okta's OAuth 2.0 bearer JWT verified against a
 * JWKS served by a local HTTP server on 127.0.0.1.
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, E2E_INLINE_SECRET, freePort, startGateway, type Gateway } from "./gateway.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/okta");
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8"));

const AUDIENCE = "api://okta-hooks-edge";
const SCOPE = "okta.hooks";
const KID = "e2e-key-1";

let gateway: Gateway;
let jwks: Server;
let issuer: string;
let privateKey: KeyObject;

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

function signJwt(payload: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: KID }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), privateKey))}`;
}

function post(type: string, body: unknown, authorization = E2E_INLINE_SECRET): Promise<Response> {
  return fetch(`${gateway.baseUrl}/hooks/inline/${type}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", authorization, "x-okta-request-id": `e2e-${type}` },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  privateKey = pair.privateKey;
  const publicJwk = { ...pair.publicKey.export({ format: "jwk" }), kid: KID, alg: "RS256", use: "sig" };
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}/oauth2/default`;
  jwks = createServer((req, res) => {
    if (req.url === "/oauth2/default/v1/keys") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => jwks.listen(port, "127.0.0.1", resolve));
  gateway = await startGateway({
    vars: {
      INLINE_HOOK_OAUTH_ISSUER: issuer,
      INLINE_HOOK_OAUTH_AUDIENCE: AUDIENCE,
      INLINE_HOOK_OAUTH_SCOPE: SCOPE,
    },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await new Promise((resolve) => jwks?.close(resolve));
});

describe("inline hooks over HTTP", () => {
  it("token: nothing to change → 204 with an empty body", async () => {
    const res = await post("token", fixture("token-hook.request.json"));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
  });

  it("password import without a credential store → UNVERIFIED", async () => {
    const res = await post("password-import", fixture("password-import-hook.request.json"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ commands: [{ type: "com.okta.action.update", value: { credential: "UNVERIFIED" } }] });
  });

  it("registration decided by a rule created through the admin API", async () => {
    const created = await fetch(`${gateway.baseUrl}/admin/api/rules`, {
      method: "POST",
      headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        kind: "registration.email-domain",
        definition: { allow: ["example.com"], errorSummary: "Use your work email.", fieldMessage: "Only example.com emails can register." },
      }),
    });
    expect(created.status).toBe(201);
    const allowed = await post("registration", fixture("registration-hook.request.ssr.json"));
    expect(allowed.status).toBe(204);
    const denied = await post("registration", fixture("captured/registration-hook.request.classic-ssr.json"));
    expect(denied.status).toBe(200);
    const body = (await denied.json()) as Record<string, any>;
    expect(body.commands).toEqual([{ type: "com.okta.action.update", value: { registration: "DENY" } }]);
    expect(body.error.errorCauses[0].location).toBe("data.userProfile.email");
  });

  it("telephony with Okta's OAuth 2.0 bearer JWT → FAILED so Okta sends the OTP itself", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt({ iss: issuer, aud: AUDIENCE, scp: [SCOPE], iat: now, exp: now + 300 });
    const res = await post("telephony", fixture("telephony-hook.request.json"), `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ commands: [{ type: "com.okta.telephony.action", value: [{ status: "FAILED" }] }] });
    const expired = signJwt({ iss: issuer, aud: AUDIENCE, scp: [SCOPE], iat: now - 7200, exp: now - 3600 });
    expect((await post("telephony", fixture("telephony-hook.request.json"), `Bearer ${expired}`)).status).toBe(401);
    expect(gateway.output()).not.toContain(token.split(".")[2]);
  });

  it("refuses a wrong secret and a mismatched eventType with our JSON error", async () => {
    expect((await post("token", fixture("token-hook.request.json"), "wrong")).status).toBe(401);
    const res = await post("saml", fixture("token-hook.request.json"));
    expect(res.status).toBe(400);
    expect(((await res.json()) as Record<string, any>).error.code).toBe("invalid_body");
  });

  it("records calls arriving together in one audit row, written after the answers, across requests", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `e2e-audit-${i}`);
    const answers = await Promise.all(
      ids.map((id) =>
        fetch(`${gateway.baseUrl}/hooks/inline/token`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: E2E_INLINE_SECRET, "x-okta-request-id": id },
          body: JSON.stringify(fixture("token-hook.request.json")),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(ids.map(() => 204));
    // Written within INLINE_AUDIT_FLUSH_MS (1 s by default) of the first call; bounded wait.
    type Row = { call_count: number; calls: string };
    let rows: Row[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      rows = await gateway.query<Row>("SELECT call_count, calls FROM inline_call_batches WHERE calls LIKE '%e2e-audit-%'");
      if (rows.map((r) => r.calls.match(/e2e-audit-/g)?.length ?? 0).reduce((a, b) => a + b, 0) >= ids.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // (A token call of an earlier test may share the row: it is less than a second older.)
    const recorded = rows.flatMap((r) => (JSON.parse(r.calls) as Array<{ oktaRequestId: string }>).map((c) => c.oktaRequestId));
    expect(recorded.filter((id) => id.startsWith("e2e-audit-")).sort()).toEqual([...ids].sort());
    // Coalesced: far fewer rows than calls (requests spread over more than a second may start a second row).
    expect(rows.length).toBeLessThanOrEqual(3);
    // workerd says so when a promise crosses requests in a way it cannot follow.
    expect(gateway.output()).not.toMatch(/different request|request context/i);
  });

  it("never logs the password or the OTP", () => {
    const output = gateway.output();
    expect(output).toContain('"inlineType":"password-import"');
    expect(output).not.toContain("isaac.brock");
    expect(output).not.toContain("11111");
  });
});
