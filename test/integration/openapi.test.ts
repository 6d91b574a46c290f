/**
 * The OpenAPI document of the admin API (GET /admin/api/openapi.json, src/http/admin/openapi/):
 * - it is served to anyone, as JSON, with the API's security headers;
 * - it describes every route the app registers under /admin/api, and none that it does not (a route added to an
 *   admin router without its description fails here);
 * - real answers — successes and the errors of the security and bad-input cases — fit the schema the document gives
 *   for their status, with no field it does not describe (test/helpers/openapi.ts), so it cannot drift from behaviour.
 * Its validity against the OpenAPI 3.1 schema is checked in Node (test/browser/api-reference.test.ts): the validator
 * compiles schemas into functions, which workerd does not allow.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { openApiPath } from "../../src/http/admin/openapi/document";
import type { Env } from "../../src/env";
import { adminCall, clearForwarding, createDestination, envWith, fanOut, oktaDelivery, postOktaDelivery, recordingQueue, stubDestinations } from "../helpers/forwarding";
import { fixture } from "../helpers/fixtures";
import { request } from "../helpers/gateway";
import { conforms, fetchDocument, type OpenApiDocument } from "../helpers/openapi";
import { failingDatabase } from "../helpers/worker";

let doc: OpenApiDocument;
beforeAll(async () => {
  doc = await fetchDocument();
});
afterEach(() => (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.());

/** Queue sends recorded instead of consumed: nothing leaves the test for a real receiver. */
const quiet = (): Env => envWith({ FORWARD_QUEUE: recordingQueue() });

/** Call `method path` as the admin and check the answer against the document; `template` is the documented path. */
async function check(method: string, path: string, template: string, body?: unknown, e: Env = quiet()) {
  return conforms(doc, await adminCall(method, path, body, e), method, `/admin/api${template}`);
}

describe("GET /admin/api/openapi.json", () => {
  it("is an OpenAPI 3.1 document for anyone, JSON, with the API's security headers", async () => {
    const res = await request("/admin/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const body = (await res.json()) as OpenApiDocument & { info: { version: string }; components: { securitySchemes: unknown } };
    expect(body.openapi).toBe("3.1.0");
    expect(body.components.securitySchemes).toEqual({ adminToken: expect.objectContaining({ type: "http", scheme: "bearer" }) });
    // The same with a token, a wrong one, or none: the document holds no data.
    const wrong = await request("/admin/api/openapi.json", { headers: { authorization: "Bearer nope" } });
    expect(await wrong.json()).toEqual(body);
  });

  it("describes every route the app registers under /admin/api, and no other", () => {
    const registered = new Set(
      app.routes
        .filter((r) => r.path.startsWith("/admin/api") && r.method !== "ALL")
        .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path.replace(/(.)\/$/, "$1")).path}`),
    );
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`)));
    expect([...registered].filter((r) => !documented.has(r)), "registered but not described").toEqual([]);
    expect([...documented].filter((d) => !registered.has(d)), "described but not registered").toEqual([]);
    expect(registered.size).toBeGreaterThan(30);
  });

  it("asks for the bearer token on every operation but the document and its reference page, and documents 401 there", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const open = path === "/admin/api/openapi.json" || path.startsWith("/admin/api/docs");
        expect(op.security, `${method} ${path}`).toEqual(open ? [] : undefined);
        expect(op.responses["401"] !== undefined, `${method} ${path} documents 401`).toBe(!open);
      }
    }
  });

  it("is GET only: other methods are the admin API's answers (401 without the token, 404 with it), never a 500", async () => {
    for (const path of ["/admin/api/openapi.json", "/admin/api/docs"]) {
      for (const method of ["POST", "PUT", "DELETE"]) {
        const anonymous = await request(path, { method, body: { openapi: "3.1.0" } });
        expect(anonymous.status, `${method} ${path}`).toBe(401);
        const admin = await request(path, { as: "admin", method, body: "{not json" });
        expect(admin.status, `${method} ${path}`).toBe(404);
        expect(((await admin.json()) as { error: { code: string } }).error.code).toBe("not_found");
        await anonymous.arrayBuffer();
      }
    }
  });

  it("fits its own description of itself", async () => {
    await conforms(doc, await request("/admin/api/openapi.json"), "GET", "/admin/api/openapi.json");
  });
});

describe("real answers fit the document", () => {
  it("destinations: create, list, get, pause, rotate, delete, and their errors", async () => {
    const created = (await check("POST", "/destinations", "/destinations", { name: "crm", url: "https://crm.example.com/okta" })) as { id: string };
    await check("POST", "/destinations", "/destinations", {
      name: "okta-style",
      url: "https://legacy.example.com/okta",
      format: "okta",
      oktaAuth: { value: "legacy-receiver-value" },
    });
    await check("GET", "/destinations", "/destinations");
    await check("GET", `/destinations/${created.id}`, "/destinations/{id}");
    await check("PATCH", `/destinations/${created.id}`, "/destinations/{id}", { state: "paused" });
    await check("POST", `/destinations/${created.id}/rotate-secret`, "/destinations/{id}/rotate-secret");
    await check("POST", `/destinations/${created.id}/rotate-secret`, "/destinations/{id}/rotate-secret", { gracePeriodSeconds: 0 });
    // Errors: each documented for its status, with our error body.
    await check("GET", "/destinations/dst_00000000000000000000", "/destinations/{id}");
    await check("POST", "/destinations", "/destinations", { name: "no url" });
    await check("POST", "/destinations", "/destinations", "{not json");
    await check("PATCH", `/destinations/${created.id}`, "/destinations/{id}", { state: "gone" });
    await conforms(doc, await request("/admin/api/destinations", { as: "anonymous" }), "GET", "/admin/api/destinations");
    await conforms(doc, await request("/admin/api/destinations", { headers: { authorization: "Bearer wrong" } }), "GET", "/admin/api/destinations");
    await conforms(
      doc,
      await request("/admin/api/destinations", { as: "admin", method: "POST", body: "name=x", headers: { "content-type": "text/plain" } }),
      "POST",
      "/admin/api/destinations",
    );
    await conforms(
      doc,
      await request("/admin/api/destinations", { as: "admin", body: { name: "x".repeat(70_000), url: "https://a.example.com" } }),
      "POST",
      "/admin/api/destinations",
    );
    await conforms(
      doc,
      await request("/admin/api/destinations", { as: "admin", env: { ADMIN_TOKEN: "" } as Partial<Env> }),
      "GET",
      "/admin/api/destinations",
    );
    await conforms(
      doc,
      await request("/admin/api/destinations", {
        as: "admin",
        body: { name: "no key", url: "https://a.example.com" },
        env: { SECRETS_ENCRYPTION_KEY: "" } as Partial<Env>,
      }),
      "POST",
      "/admin/api/destinations",
    );
    await check("DELETE", `/destinations/${created.id}`, "/destinations/{id}");
    await check("DELETE", `/destinations/${created.id}`, "/destinations/{id}");
  });

  it("events, replays and dead letters, from an event one destination refused", async () => {
    await clearForwarding();
    const fine = await createDestination({ name: "fine", url: "https://fine.example.com/hook" });
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}]);
    expect((await postOktaDelivery(envelope, quiet())).status).toBe(204);
    stubDestinations((r) => new Response(null, { status: r.url.includes("broken") ? 400 : 204 }));
    await fanOut(uuids[0]!);
    const [uuid, other] = uuids as [string, string];

    await check("GET", "/events", "/events");
    await check("GET", "/events?type=user.session.*&limit=1", "/events");
    await check("GET", "/events?limit=0", "/events");
    await check("GET", "/events?colour=red", "/events");
    const detail = (await check("GET", `/events/${uuid}`, "/events/{uuid}")) as { deliveries: Array<{ attemptLog: unknown[] }> };
    expect(detail.deliveries).toHaveLength(2);
    expect(detail.deliveries.every((d) => d.attemptLog.length === 1)).toBe(true);
    await check("GET", `/events/${uuid}/deliveries`, "/events/{uuid}/deliveries");
    await check("GET", "/events/no-such-event", "/events/{uuid}");

    await check("POST", "/replays", "/replays", { filter: {}, dryRun: true });
    const one = (await check("POST", "/replays", "/replays", { eventUuid: uuid, destinationId: fine.id })) as { id: string };
    const many = (await check("POST", "/replays", "/replays", { filter: { type: "user.session.start" }, ratePerSecond: 1 })) as { id: string };
    await check("POST", "/replays", "/replays", { eventUuid: uuid, filter: {} });
    await check("GET", "/replays", "/replays");
    await check("GET", "/replays?limit=500", "/replays");
    await check("GET", `/replays/${one.id}`, "/replays/{id}");
    await check("POST", `/replays/${many.id}/cancel`, "/replays/{id}/cancel");
    await check("POST", `/replays/${many.id}/cancel`, "/replays/{id}/cancel");
    await check("GET", "/replays/job_999999", "/replays/{id}");

    await check("GET", "/dead-letters", "/dead-letters");
    await check("GET", `/dead-letters?destinationId=${broken.id}&limit=1`, "/dead-letters");
    await check("GET", "/dead-letters?destinationId=nobody", "/dead-letters");
    await check("GET", `/dead-letters/${broken.id}/${uuid}`, "/dead-letters/{destination}/{uuid}");
    await check("GET", `/dead-letters/fan-out/${uuid}`, "/dead-letters/{destination}/{uuid}");
    await check("POST", `/dead-letters/${broken.id}/${uuid}/redrive`, "/dead-letters/{destination}/{uuid}/redrive");
    await check("POST", "/dead-letters/redrive", "/dead-letters/redrive", { destinationId: broken.id });
    await check("POST", "/dead-letters/redrive", "/dead-letters/redrive", { destinationId: "dst_00000000000000000000" });
    await check("DELETE", `/dead-letters/${broken.id}/${other}`, "/dead-letters/{destination}/{uuid}");
    await check("DELETE", `/dead-letters/${broken.id}/${other}`, "/dead-letters/{destination}/{uuid}");
  });

  it("inline hook rules and lookup tables", async () => {
    const rule = {
      kind: "registration.email-domain",
      name: "staff only",
      definition: { allow: ["example.com"], errorSummary: "Use your work email.", fieldMessage: "Not a work address." },
    };
    const created = (await check("POST", "/rules", "/rules", rule)) as { id: string };
    await check("POST", "/rules", "/rules", {
      kind: "token.claim",
      definition: { token: "access", claim: "tier", value: { from: "lookup", table: "tiers", key: { from: "userId" } } },
    });
    await check("GET", "/rules", "/rules");
    await check("GET", "/rules?type=registration", "/rules");
    await check("GET", "/rules?type=nope", "/rules");
    await check("GET", `/rules/${created.id}`, "/rules/{id}");
    await check("PUT", `/rules/${created.id}`, "/rules/{id}", { ...rule, priority: 5 });
    await check("POST", "/rules", "/rules", { ...rule, kind: "registration.nothing" });
    await check("DELETE", `/rules/${created.id}`, "/rules/{id}");
    await check("GET", `/rules/${created.id}`, "/rules/{id}");

    await check("PUT", "/rules/lookup-tables/tiers/entries/00u1", "/rules/lookup-tables/{table}/entries/{key}", { value: { tier: "gold" } });
    await check("PUT", "/rules/lookup-tables/tiers/entries/00u2", "/rules/lookup-tables/{table}/entries/{key}", { value: null });
    await check("PUT", "/rules/lookup-tables/bad%20name/entries/00u2", "/rules/lookup-tables/{table}/entries/{key}", { value: 1 });
    await check("GET", "/rules/lookup-tables/tiers?limit=1", "/rules/lookup-tables/{table}");
    await check("GET", "/rules/lookup-tables/tiers?limit=0", "/rules/lookup-tables/{table}");
    await check("DELETE", "/rules/lookup-tables/tiers/entries/00u1", "/rules/lookup-tables/{table}/entries/{key}");
    await check("DELETE", "/rules/lookup-tables/tiers/entries/00u1", "/rules/lookup-tables/{table}/entries/{key}");
  });

  it("stats", async () => {
    await createDestination({ name: "stats", url: "https://stats.example.com/hook" });
    await check("GET", "/stats", "/stats");
    await check("GET", "/stats?x=1", "/stats");
    await check("GET", "/stats/events", "/stats/events");
    await check("GET", "/stats/events?bucket=day&type=user.*", "/stats/events");
    await check("GET", "/stats/events?bucket=week", "/stats/events");
    await check("GET", "/stats/deliveries", "/stats/deliveries");
    await check("GET", "/stats/deliveries?destinationId=dst_00000000000000000000", "/stats/deliveries");
    await check("GET", "/stats/inline", "/stats/inline");
    await check("GET", "/stats/inline?type=tokens", "/stats/inline");
  });

  it("inline hook calls, and their stats with figures", async () => {
    const vars = { INLINE_AUDIT_FLUSH_MS: "0" } as Partial<Env>;
    await request("/hooks/inline/token", { as: "inline", body: fixture("token-hook.request.json"), env: vars });
    await request("/hooks/inline/token", {
      as: "inline",
      body: fixture("token-hook.request.json"),
      env: vars,
      handlers: { token: async () => Promise.reject(new Error("down")) },
    });
    const page = (await check("GET", "/inline-calls?type=token&limit=1", "/inline-calls")) as { calls: unknown[]; nextCursor: string };
    expect(page.calls).toHaveLength(1);
    await check("GET", `/inline-calls?cursor=${page.nextCursor}&fallbackReason=handler_error`, "/inline-calls");
    await check("GET", "/inline-calls?decidedBy=nope%20nope", "/inline-calls");
    const stats = (await check("GET", "/stats/inline?type=token", "/stats/inline")) as { types: Array<{ calls: number; fallbacks: unknown[] }> };
    expect(stats.types[0]!.calls).toBeGreaterThanOrEqual(2);
    expect(stats.types[0]!.fallbacks).not.toEqual([]);
  });

  it("an answer with a field the document does not describe fails the check (the check itself can fail)", async () => {
    const res = new Response(JSON.stringify({ destinations: [], surprise: true }), { headers: { "content-type": "application/json" } });
    await expect(conforms(doc, res, "GET", "/admin/api/destinations")).rejects.toThrow(/fits its schema/);
    const undocumented = new Response(null, { status: 418 });
    await expect(conforms(doc, undocumented, "GET", "/admin/api/destinations")).rejects.toThrow(/documents status 418/);
  });

  it("storage failures are documented too", async () => {
    const res = await request("/admin/api/events", { as: "admin", env: { DB: failingDatabase() } as Partial<Env> });
    expect(res.status).toBe(503);
    await conforms(doc, res, "GET", "/admin/api/events");
  });
});
