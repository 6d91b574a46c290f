/// <reference lib="dom" />
/**
 * The Overview and Events pages as they are on a gateway with the operations API (event search and detail,
 * replay, stats). That API is not on this gateway yet, so its answers are given in the browser (playwright's
 * page.route), in the shapes its routes define: GET /admin/api/events and /events/{uuid}, POST /admin/api/replays
 * and GET /replays/{id}, GET /admin/api/stats, /stats/events and /stats/deliveries. Everything else — the page,
 * sign-in, destinations — is the real Worker under `wrangler dev`. What is checked is the dashboard's side: the
 * requests it makes (filters, keyset cursor, replay body) and what it shows of the answers; the API's own behaviour
 * is tested with the API.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, startGateway, type Gateway } from "../e2e/gateway.js";
import { DESKTOP, launchChromium, PHONE, screenshot, seriousAccessibilityViolations, watchedPage, type PageWatch } from "./browser.js";

const delivery = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../fixtures/okta/event-hook.delivery.user-session-start.json"), "utf8")) as {
  data: { events: Array<Record<string, unknown> & { uuid: string; eventType: string; published: string }> };
};
const EVENT = delivery.data.events[0]!;
const HOUR = 3_600_000;

function summary(uuid: string, eventType: string, outcome: string, published: string) {
  return {
    uuid,
    eventType,
    published,
    receivedAt: published,
    actorId: "00u1abcd",
    actorAlternateId: "alice@example.com",
    outcomeResult: outcome,
    severity: "INFO",
    oktaOrg: "acme.okta.com",
    forwardState: "fanned_out",
  };
}

const FIRST_PAGE = [
  summary(EVENT.uuid, EVENT.eventType, "SUCCESS", EVENT.published),
  summary("a0000000-0000-0000-0000-000000000002", "user.lifecycle.create", "SUCCESS", "2026-11-30T10:00:00.000Z"),
];
const OLDER_PAGE = [summary("a0000000-0000-0000-0000-000000000003", "security.threat.detected", "DENY", "2026-11-29T10:00:00.000Z")];

let gateway: Gateway;
let browser: Browser;
const watches: PageWatch[] = [];
const requests: Array<{ method: string; url: URL; body: unknown }> = [];

/** The operations API's answers for this page. */
async function operationsApi(page: Page): Promise<void> {
  const json = (route: Route, body: unknown, status = 200) => route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
  await page.route(
    (url) => /^\/admin\/api\/(events|replays|stats)(\/|$)/.test(url.pathname) && !url.pathname.endsWith("/deliveries"),
    async (route) => {
      const request = route.request();
      const url = new URL(request.url());
      requests.push({ method: request.method(), url, body: request.postData() ? JSON.parse(request.postData()!) : null });
      expect(request.headers().authorization).toBe(`Bearer ${E2E_ADMIN_TOKEN}`);
      const p = url.pathname;
      if (p === "/admin/api/events") {
        if (url.searchParams.get("outcome") === "FAILURE") return json(route, { events: [summary("f0000000-0000-0000-0000-000000000001", "user.session.start", "FAILURE", new Date().toISOString())], nextCursor: null });
        if (url.searchParams.get("type") === "security.*") return json(route, { events: [], nextCursor: null });
        return url.searchParams.get("cursor") === "41" ? json(route, { events: OLDER_PAGE, nextCursor: null }) : json(route, { events: FIRST_PAGE, nextCursor: "41" });
      }
      if (p === `/admin/api/events/${EVENT.uuid}`) {
        return json(route, {
          ...FIRST_PAGE[0],
          eventHookId: "who1",
          envelopeEventId: "env1",
          payload: EVENT,
          deliveries: [
            {
              destinationId: "dst_00000000000000000001",
              destinationName: "Security SIEM",
              state: "delivered",
              attempts: 2,
              nextAttemptAt: null,
              lastStatus: 200,
              lastError: null,
              createdAt: EVENT.published,
              deliveredAt: EVENT.published,
              jobId: null,
              attemptLog: [
                { attempt: 1, attemptedAt: EVENT.published, status: 503, latencyMs: 120, outcome: "retry", error: "HTTP 503", jobId: null },
                { attempt: 2, attemptedAt: EVENT.published, status: 200, latencyMs: 80, outcome: "delivered", error: null, jobId: null },
              ],
            },
          ],
        });
      }
      const job = { id: "job_7", kind: "replay", state: "running", eventUuid: EVENT.uuid, destinationId: null, ratePerSecond: 10, progress: { matched: 1, enqueued: 1, skipped: 0, delivered: 0, failed: 0, scanned: 1 }, createdAt: null, updatedAt: null, finishedAt: null };
      if (p === "/admin/api/replays" && request.method() === "POST") return json(route, job, 202);
      if (p === "/admin/api/replays/job_7") return json(route, { ...job, state: "finished", progress: { ...job.progress, delivered: 1 } });
      if (p === "/admin/api/stats") {
        return json(route, {
          d1: { sizeBytes: 2_400_000_000, limitBytes: 10_000_000_000, usedPercent: 24 },
          events: { oldestReceivedAt: "2026-11-01T00:00:00.000Z", newestReceivedAt: new Date().toISOString(), receivedLast24Hours: 1234 },
          outbox: { batches: 2, oldestCreatedAt: null },
          retention: {},
        });
      }
      if (p === "/admin/api/stats/events") {
        const now = Math.floor(Date.now() / HOUR) * HOUR;
        const buckets = Array.from({ length: 24 }, (_, i) => ({
          start: new Date(now - (23 - i) * HOUR).toISOString(),
          total: 30 + i,
          counts: [
            { eventType: "user.session.start", count: 20 + i },
            { eventType: "user.lifecycle.create", count: 5 },
            { eventType: "security.threat.detected", count: 5 },
          ],
        }));
        return json(route, { bucket: "hour", since: buckets[0]!.start, until: new Date(now + HOUR).toISOString(), type: null, total: 996, eventTypes: [], buckets });
      }
      if (p === "/admin/api/stats/deliveries") return json(route, { since: "", until: "", destinations: [] });
      return json(route, { error: { code: "not_found", message: `No route for ${request.method()} ${p}.` } }, 404);
    },
  );
}

async function signedInPage(viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const { page, watch } = await watchedPage(context);
  watches.push(watch);
  page.setDefaultTimeout(20_000);
  await operationsApi(page);
  await page.goto(`${gateway.baseUrl}/admin/`);
  await page.getByLabel("Admin token").fill(E2E_ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  return page;
}

beforeAll(async () => {
  [gateway, browser] = await Promise.all([startGateway(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
});

describe("Overview with the operations API's stats", () => {
  it("charts events by type group and highlights failed sign-ins and D1's size", async () => {
    const page = await signedInPage();
    await page.getByText("Sessions and sign-in:").waitFor();
    expect(await page.locator(".legend li").allTextContents()).toEqual([
      expect.stringMatching(/User lifecycle: 120/),
      expect.stringMatching(/Sessions and sign-in: 756/),
      expect.stringMatching(/Security: 120/),
    ]);
    expect(await page.locator(".chart svg rect").count()).toBe(72);
    const failed = page.locator("a.tile", { hasText: "Failed sign-ins" });
    await failed.locator(".tile-value", { hasText: "1" }).waitFor();
    expect(await failed.getAttribute("class")).toContain("alert");
    const search = requests.find((r) => r.url.searchParams.get("outcome") === "FAILURE")!;
    expect(search.url.searchParams.get("type")).toBe("user.session.start");
    expect(Date.now() - Date.parse(search.url.searchParams.get("since")!)).toBeLessThanOrEqual(24 * HOUR);
    await page.getByText("of 10.0 GB (24 %)").waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, "overview-with-stats");
    await page.getByRole("button", { name: "Show the numbers" }).click();
    await page.getByRole("table", { name: "Events per hour" }).waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
  });
});

describe("Events with the operations API's search, detail and replay", () => {
  it("searches with the filters in the URL, pages with the cursor, opens an event and replays it after a confirmation", async () => {
    const page = await signedInPage();
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Events" }).click();
    await page.getByRole("row", { name: /user\.lifecycle\.create/ }).waitFor();
    await page.getByLabel("Type").fill("user.*");
    await page.getByLabel("Outcome").selectOption("SUCCESS");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/#\/events\?type=user\.\*&outcome=SUCCESS/);
    await page.getByRole("row", { name: /user\.lifecycle\.create/ }).waitFor();
    const searched = requests.filter((r) => r.url.pathname === "/admin/api/events" && r.url.searchParams.get("type") === "user.*");
    expect(searched.at(-1)?.url.searchParams.get("outcome")).toBe("SUCCESS");

    await page.getByRole("button", { name: "Older events" }).click();
    await page.getByRole("row", { name: /security\.threat\.detected/ }).waitFor();
    expect(requests.at(-1)?.url.searchParams.get("cursor")).toBe("41");
    expect(await page.getByRole("button", { name: "Older events" }).count()).toBe(0);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, "events-with-search");

    await page.getByRole("row", { name: /user\.session\.start/ }).getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "user.session.start" }).waitFor();
    const payload = await page.getByLabel("Okta's event, pretty-printed").textContent();
    expect(JSON.parse(payload!)).toEqual(EVENT);
    expect(payload).toContain('\n  "uuid": ');
    expect(await page.getByRole("table", { name: "Attempts to Security SIEM" }).locator("tbody tr").allTextContents()).toEqual([
      expect.stringContaining("503"),
      expect.stringContaining("200"),
    ]);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, "event-detail");

    await page.getByRole("button", { name: "Replay…" }).click();
    const dialog = page.getByRole("dialog", { name: "Replay this event?" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(requests.some((r) => r.method === "POST")).toBe(false);
    await page.getByRole("button", { name: "Replay…" }).click();
    await dialog.getByRole("button", { name: "Replay" }).click();
    await page.getByText("Replay job_7: finished, 1 delivered, 0 failed.").waitFor({ timeout: 30_000 });
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ eventUuid: EVENT.uuid });
  });

  it("is readable at phone width", async () => {
    const page = await signedInPage(PHONE);
    for (const [fragment, heading, name] of [
      ["#/overview", "Overview", "overview-with-stats"],
      ["#/events", "Events", "events-with-search"],
      [`#/events/${EVENT.uuid}`, "user.session.start", "event-detail"],
    ] as const) {
      await page.goto(`${gateway.baseUrl}/admin/${fragment}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await page.waitForLoadState("networkidle");
      expect(await seriousAccessibilityViolations(page), name).toEqual([]);
      await screenshot(page, name);
    }
    expect(watches.flatMap((w) => [...w.cspViolations, ...w.pageErrors])).toEqual([]);
  });
});
