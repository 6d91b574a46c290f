/**
 * /admin: the dashboard's static files through the ASSETS binding with the dashboard's Content-Security-Policy,
 * and the security headers on every other response of the Worker (src/http/security-headers.ts). The files come
 * from dashboard/dist, which vitest.config.ts builds before the tests.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { request } from "../helpers/gateway";

const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'; require-trusted-types-for 'script'; trusted-types 'none'";
const API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function expectCommonHeaders(res: Response) {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
  expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
  expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
}

describe("GET /admin: the dashboard's files", () => {
  it("redirects /admin to /admin/, which is the page: its script and style from this origin, nothing inline", async () => {
    const redirect = await request("/admin");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/admin/");

    const res = await request("/admin/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expectCommonHeaders(res);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/admin/assets/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/admin/assets/app.css">');
    // No inline script or style, no other origin: the CSP would refuse them.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("serves the script, the style sheet and the icon with the dashboard's policy and an ETag", async () => {
    for (const [path, type] of [
      ["/admin/assets/app.js", /^text\/javascript/],
      ["/admin/assets/app.css", /^text\/css/],
      ["/admin/assets/favicon.svg", /^image\/svg\+xml/],
    ] as const) {
      const res = await request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(type);
      expect(res.headers.get("content-security-policy"), path).toBe(DASHBOARD_CSP);
      expect(res.headers.get("etag"), path).toBeTruthy();
      expectCommonHeaders(res);
      expect((await res.arrayBuffer()).byteLength, path).toBeGreaterThan(0);
    }
  });

  it("answers a revalidation with the ETag by 304", async () => {
    const first = await request("/admin/assets/app.js");
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    const again = await request("/admin/assets/app.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("answers a file that does not exist, or a path outside the dashboard, with the JSON 404", async () => {
    for (const path of ["/admin/assets/nope.js", "/admin/assets/../../wrangler.toml", "/admin/index.html.bak", "/admin/secret", "/index.html"]) {
      const res = await request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^application\/json/);
      expect(await res.json(), path).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("serves GET and HEAD only", async () => {
    const head = await request("/admin/", { method: "HEAD" });
    expect(head.status).toBe(200);
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await request("/admin/", { method, body: "{}" });
      expect(res.status, method).toBe(404);
      expect(await res.json(), method).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("needs no token: the files hold no data, and a token sent along changes nothing", async () => {
    const anonymous = await request("/admin/assets/app.js");
    const admin = await request("/admin/assets/app.js", { as: "admin" });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toBe(await anonymous.text());
  });

  it("answers 503 not_configured, not a 500, when the Worker is deployed without its files", async () => {
    const res = await request("/admin/", { env: { ASSETS: undefined } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "not_configured" } });
  });

  it("has the ASSETS binding from wrangler.toml in the tests", () => {
    expect(env.ASSETS).toBeDefined();
  });
});

describe("the Worker's other responses carry the API's security headers", () => {
  it("on the admin API, its errors, hook routes and the health check", async () => {
    const cases: Array<[string, Parameters<typeof request>[1], number]> = [
      ["/admin/api/destinations", { as: "admin" }, 200],
      ["/admin/api/destinations", { as: "anonymous" }, 401],
      ["/admin/api/nope", { as: "admin" }, 404],
      ["/hooks/events", { as: "okta", headers: { "x-okta-verification-challenge": "abc" } }, 200],
      ["/hooks/events", { as: "anonymous" }, 401],
      ["/healthz", {}, 200],
    ];
    for (const [path, options, status] of cases) {
      const res = await request(path, options);
      expect(res.status, path).toBe(status);
      expect(res.headers.get("content-security-policy"), path).toBe(API_CSP);
      expectCommonHeaders(res);
    }
  });
});
