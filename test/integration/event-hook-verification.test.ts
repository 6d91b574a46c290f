/**
 * Okta's one-time event hook verification (https://developer.okta.com/docs/concepts/event-hooks/): GET with
 * x-okta-verification-challenge, answered with
 * {"verification":"<value>"} as 200 application/json — checked byte for byte against Okta Support's recorded
 * exchange — behind the same auth as deliveries, since Okta sends the configured header on the GET too.
 */
import { describe, expect, it } from "vitest";
import { fixtureText } from "../helpers/fixtures";
import { EVENT_SECRET_NEW, EVENT_SECRET_OLD } from "../helpers/okta";
import { BASE, callWorker } from "../helpers/worker";

/** The request of event-hook.verification.request.http, as a fetch Request. */
function recordedVerificationRequest(): Request {
  const [head] = fixtureText("event-hook.verification.request.http").split(/\r?\n\r?\n/);
  const [requestLine, ...headerLines] = head!.split(/\r?\n/);
  const [method, path] = requestLine!.split(" ");
  const headers = new Headers();
  for (const line of headerLines) {
    const i = line.indexOf(":");
    headers.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  // The recorded hook is at /event-hook/; ours is /hooks/events. The recorded secret is "my-shared-secret".
  expect(path).toBe("/event-hook/");
  expect(headers.get("authorization")).toBe("my-shared-secret");
  headers.set("authorization", EVENT_SECRET_NEW);
  return new Request(`${BASE}/hooks/events`, { method, headers });
}

function verificationGet(headers: Record<string, string>): Request {
  return new Request(`${BASE}/hooks/events`, { headers });
}

describe("GET /hooks/events — Okta verification", () => {
  it("answers Okta Support's recorded challenge with exactly the recorded body, 200 application/json", async () => {
    const res = await callWorker(recordedVerificationRequest());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.text()).toBe(fixtureText("event-hook.verification.response.json").trimEnd());
  });

  it("matches the raw recorded response's status line, content type and Content-Length", async () => {
    const recorded = fixtureText("event-hook.verification.response.http");
    const res = await callWorker(recordedVerificationRequest());
    const body = await res.text();
    expect(recorded.startsWith("HTTP/1.1 200 OK")).toBe(true);
    expect(recorded).toContain(`Content-Length: ${new TextEncoder().encode(body).byteLength}`);
    expect(recorded.trimEnd().endsWith(body)).toBe(true);
  });

  it("reads the challenge header case-insensitively (2019 docs wrote X-Okta-Verification-Challenge)", async () => {
    const res = await callWorker(
      verificationGet({ "X-Okta-Verification-Challenge": "abc_-123", Authorization: EVENT_SECRET_OLD }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ verification: "abc_-123" });
  });

  it("echoes a challenge with JSON-significant characters as valid JSON", async () => {
    const challenge = 'a"b\\c';
    const res = await callWorker(verificationGet({ "x-okta-verification-challenge": challenge, authorization: EVENT_SECRET_NEW }));
    expect(await res.json()).toEqual({ verification: challenge });
  });

  it("refuses a GET without the challenge header with 400 and a JSON error", async () => {
    const res = await callWorker(verificationGet({ authorization: EVENT_SECRET_NEW }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: "missing_challenge", message: expect.stringContaining("x-okta-verification-challenge") },
    });
  });

  it("refuses a verification without the auth header (401) and never echoes the challenge", async () => {
    const res = await callWorker(verificationGet({ "x-okta-verification-challenge": "should-not-echo" }));
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain("should-not-echo");
    expect(JSON.parse(text)).toEqual({ error: { code: "unauthorized", message: "Missing or invalid credentials." } });
  });

  it("refuses a verification with a wrong secret (401)", async () => {
    const res = await callWorker(
      verificationGet({ "x-okta-verification-challenge": "x", authorization: "not-the-secret" }),
    );
    expect(res.status).toBe(401);
  });

  it("answers 503 when no event hook secret is configured (never runs open)", async () => {
    const res = await callWorker(verificationGet({ "x-okta-verification-challenge": "x", authorization: "anything" }), {
      EVENT_HOOK_SECRETS: "",
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: "not_configured", message: "This hook is not configured: set EVENT_HOOK_SECRETS." },
    });
  });

  it("uses the configured header name (EVENT_HOOK_AUTH_HEADER) and ignores Authorization then", async () => {
    const overrides = { EVENT_HOOK_AUTH_HEADER: "X-Okta-Secret" };
    const ok = await callWorker(
      verificationGet({ "x-okta-verification-challenge": "c1", "x-okta-secret": EVENT_SECRET_NEW }),
      overrides,
    );
    expect(ok.status).toBe(200);
    const wrongHeader = await callWorker(
      verificationGet({ "x-okta-verification-challenge": "c1", authorization: EVENT_SECRET_NEW }),
      overrides,
    );
    expect(wrongHeader.status).toBe(401);
  });
});
