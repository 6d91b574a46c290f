/**
 * GET /admin/api/docs: the admin API's reference page (Swagger UI) from the Worker's static assets, which
 * vitest.config.ts builds (api-reference/build.ts) before the tests. It is open, references only files of this
 * origin — no inline script, no other origin — and carries its strict Content-Security-Policy; so do its files.
 * test/browser/api-reference.test.ts renders it in chromium.
 */
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { request } from "../helpers/gateway";

const REFERENCE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

describe("GET /admin/api/docs", () => {
  it("is the page, for anyone, with its CSP, loading only this origin's files and this gateway's document", async () => {
    const res = await request("/admin/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(REFERENCE_CSP);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const html = await res.text();
    const references = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(references.sort()).toEqual([
      "/admin/api/docs/assets/favicon-32x32.png",
      "/admin/api/docs/assets/init.js",
      "/admin/api/docs/assets/swagger-ui-bundle.js",
      "/admin/api/docs/assets/swagger-ui.css",
    ]);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|https?:\/\//);
    const init = await (await request("/admin/api/docs/assets/init.js")).text();
    expect(init).toContain('url: "/admin/api/openapi.json"');
    expect(init).toContain("validatorUrl: null");
  });

  it("serves its files with the same policy and an ETag, and a 404 for anything else", async () => {
    for (const [file, type] of [
      ["swagger-ui-bundle.js", /^text\/javascript/],
      ["swagger-ui.css", /^text\/css/],
      ["init.js", /^text\/javascript/],
      ["favicon-32x32.png", /^image\/png/],
      ["LICENSE.txt", /^text\/plain/],
    ] as const) {
      const res = await request(`/admin/api/docs/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type"), file).toMatch(type);
      expect(res.headers.get("content-security-policy"), file).toBe(REFERENCE_CSP);
      expect(res.headers.get("etag"), file).toBeTruthy();
      expect((await res.arrayBuffer()).byteLength, file).toBeGreaterThan(0);
    }
    for (const path of ["/admin/api/docs/assets/nope.js", "/admin/api/docs/assets/index.html", "/admin/api/docs/assets/..%2Fadmin%2Findex.html"]) {
      const res = await request(path);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    }
    // The bundle keeps no pointer to a source map that is not shipped.
    const css = await (await request("/admin/api/docs/assets/swagger-ui.css")).text();
    expect(css).not.toContain("sourceMappingURL");
  });

  it("revalidates with the ETag", async () => {
    const first = await request("/admin/api/docs/assets/init.js");
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    const again = await request("/admin/api/docs/assets/init.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("answers 503 not_configured, not a crash, when the Worker was deployed without its assets", async () => {
    const res = await request("/admin/api/docs", { env: { ASSETS: undefined } as Partial<Env> });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_configured");
  });

  it("is not behind the admin token: a wrong one changes nothing", async () => {
    const res = await request("/admin/api/docs", { headers: { authorization: "Bearer wrong" } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
