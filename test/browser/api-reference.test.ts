/// <reference lib="dom" />
/**
 * The admin API's OpenAPI document and its reference page, from the real Worker under `wrangler dev`:
 * - the document served at /admin/api/openapi.json is valid OpenAPI 3.1 (the official schemas, through
 *   @seriousme/openapi-schema-validator, in Node: it compiles schemas into functions, which workerd refuses) and
 *   every `$ref` in it resolves;
 * - /admin/api/docs renders it in Debian's chromium: every operation listed, "Authorize" with the admin token and
 *   "Try it out" answered by this gateway — with no request to any other origin, no Content-Security-Policy
 *   violation, no uncaught error. A screenshot goes to test-artifacts/dashboard/api-reference-1280.png.
 * Every wait is bounded.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, startGateway, type Gateway } from "../e2e/gateway.js";
import { DESKTOP, launchChromium, screenshot, watchedPage } from "./browser.js";

let gateway: Gateway;
let browser: Browser | undefined;

beforeAll(async () => {
  gateway = await startGateway();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
});

describe("the OpenAPI document over HTTP", () => {
  it("is valid OpenAPI 3.1, and every $ref in it resolves", async () => {
    const res = await fetch(`${gateway.baseUrl}/admin/api/openapi.json`);
    expect(res.status).toBe(200);
    const document = (await res.json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors, JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(() => validator.resolveRefs()).not.toThrow();

    // The validator does refuse what is not OpenAPI: without `info`, or with a path missing its leading slash.
    const { info: _info, ...noInfo } = document;
    expect((await new Validator().validate(noInfo)).valid).toBe(false);
    const paths = document.paths as Record<string, unknown>;
    expect((await new Validator().validate({ ...document, paths: { "admin/api": paths["/admin/api/events"] } })).valid).toBe(false);
  });
});

describe("the reference page in chromium", () => {
  it("lists every operation and tries one against this gateway, loading nothing from another origin", async () => {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: DESKTOP });
    const { page, watch } = await watchedPage(context);
    page.setDefaultTimeout(30_000);
    const origins = new Set<string>();
    page.on("request", (request) => origins.add(new URL(request.url()).origin));

    const document = (await (await fetch(`${gateway.baseUrl}/admin/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary: string }>>;
    };
    const operations = Object.values(document.paths).flatMap((ops) => Object.values(ops));

    await page.goto(`${gateway.baseUrl}/admin/api/docs`);
    await page.getByRole("heading", { name: /okta-hooks-edge admin API/ }).waitFor();
    await page.locator(".opblock").first().waitFor();
    expect(await page.locator(".opblock").count()).toBe(operations.length);
    await screenshot(page, "api-reference");

    // Authorize with the admin token, then "Try it out" on GET /admin/api/destinations.
    await page.getByRole("button", { name: /Authorize/ }).first().click();
    await page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first().fill(E2E_ADMIN_TOKEN);
    await page.getByRole("button", { name: "Apply credentials" }).click();
    await page.locator(".modal-ux button.btn-done").click();
    const list = page.locator("#operations-Destinations-listDestinations");
    await list.locator(".opblock-summary").click();
    await list.getByRole("button", { name: "Try it out" }).click();
    await list.getByRole("button", { name: "Execute" }).click();
    await list.locator(".live-responses-table tr.response .response-col_status").first().waitFor();
    expect((await list.locator(".live-responses-table tr.response .response-col_status").first().innerText()).trim()).toBe("200");
    expect(await list.locator(".live-responses-table").innerText()).toContain('"destinations"');

    expect([...origins]).toEqual([gateway.baseUrl]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors).toEqual([]);
    await context.close();
  });
});
