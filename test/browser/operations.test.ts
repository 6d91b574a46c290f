/// <reference lib="dom" />
/**
 * The operations pages in a real browser against the real Worker (`wrangler dev`, local D1 and Queues) and a
 * receiver on 127.0.0.1, with events seeded the way Okta sends them (POST /hooks/events with Okta's example
 * deliveries from test/fixtures/okta, and copies of its example events with fresh uuids):
 *
 * - Overview: the chart of events per hour by type group, failed sign-ins and security events counted and listed,
 *   destination tiles with their last failure, D1's size, and the inline decisions tile (none yet);
 * - Events: filtered by type and outcome (the filters in the URL), a live update while the page is open, "Load
 *   more" through the API's cursor; one event opened (payload pretty-printed, its attempts), replayed after a
 *   confirmation, the new attempt arriving at the receiver and then in the event's detail;
 * - Destinations: pause and resume, "Send test event" (delivered, then refused by a failing receiver);
 * - Dead letters: made by a receiver answering 410, shown as the destination's last failure, redriven one by one
 *   and all together (the job's progress) once the receiver is fixed, and deleted after a confirmation;
 * - Inline hooks: Okta's token and registration example calls (one denied by a rule) in the type's recent calls,
 *   filtered, a bad filter refused at its field, and in the Overview's decisions and p95 latency per type;
 * - sign-out;
 * and, with answers given in the browser (page.route) because the real API cannot produce them on demand, a gateway
 * without the operations API (its 404s) and a storage failure (503).
 * Every page is screenshotted at desktop and phone widths (test-artifacts/dashboard/) and checked with axe-core; no
 * page may report a Content-Security-Policy violation or an uncaught error. Every wait is bounded.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, E2E_INLINE_SECRET, startGateway, waitFor, type Gateway } from "../e2e/gateway.js";
import { DESKTOP, launchChromium, PHONE, screenshot, seriousAccessibilityViolations, signIn as signInAs, watchedPage, type PageWatch } from "./browser.js";

type Json = Record<string, any>;
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/okta");
const fixtureText = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");
const SESSION_START = fixtureText("event-hook.delivery.user-session-start.json");
const SESSION_START_2019 = fixtureText("event-hook.delivery.user-session-start.2019.json");
const SESSION_EVENT = (JSON.parse(SESSION_START) as Json).data.events[0] as Json;
const DEACTIVATE_EVENT = JSON.parse(fixtureText("event-hook.logevent.user-lifecycle-deactivate.json")) as Json;
const REPLAY_UUID = SESSION_EVENT.uuid as string;

let gateway: Gateway;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
/** What the receiver answers next (per event uuid, else `status`). */
const answer = { status: 200, byUuid: new Map<string, number>() };
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
const watches: PageWatch[] = [];
const contexts: BrowserContext[] = [];
let destinationId: string;
let seq = 0;

/** A copy of one of Okta's example events with a fresh uuid and `changes` (published now unless given). */
function copyOf(event: Json, changes: Json = {}): Json {
  seq++;
  return { ...structuredClone(event), uuid: `b0000000-0000-4000-8000-${String(seq).padStart(12, "0")}`, published: new Date().toISOString(), ...changes };
}

/** POST a delivery as Okta does; 204 expected. */
async function deliver(body: string | Json[]): Promise<void> {
  const text = typeof body === "string" ? body : JSON.stringify({ ...(JSON.parse(SESSION_START) as Json), eventId: crypto.randomUUID(), data: { events: body } });
  const res = await fetch(`${gateway.baseUrl}/hooks/events`, {
    method: "POST",
    headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json", "user-agent": "Okta Hook Service v1.0.0 - whoTestHook" },
    body: text,
  });
  expect(res.status).toBe(204);
}

async function api<T = Json>(method: string, pathname: string, body?: unknown): Promise<T> {
  const res = await adminRequest(gateway, method, pathname, body);
  expect(res.status, `${method} ${pathname}`).toBeLessThan(300);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const receivedFor = (uuid: string) => received.filter((r) => r.body.includes(uuid));

async function newPage(viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const { page, watch } = await watchedPage(context);
  watches.push(watch);
  page.setDefaultTimeout(20_000);
  return page;
}

const signIn = (page: Page) => signInAs(page, gateway.baseUrl, E2E_ADMIN_TOKEN);

async function settle(page: Page): Promise<void> {
  await page.locator(".loading").first().waitFor({ state: "detached", timeout: 20_000 }).catch(() => {});
  await page.waitForLoadState("networkidle").catch(() => {});
}

async function check(page: Page, name: string): Promise<void> {
  await settle(page);
  expect(await seriousAccessibilityViolations(page), name).toEqual([]);
  await screenshot(page, name);
}

const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name }).click();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ headers: req.headers, body });
      const special = [...answer.byUuid].find(([uuid]) => body.includes(uuid));
      res.writeHead(special ? special[1] : answer.status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/okta`;
  [gateway, browser] = await Promise.all([
    startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1" } }),
    launchChromium(),
  ]);

  // A destination for everything, then Okta's deliveries: its examples, a failed sign-in, a security event, and
  // enough lifecycle events that the Events page has a second page.
  destinationId = (await api<Json>("POST", "/destinations", { name: "Security SIEM", url: receiverUrl, eventTypes: ["*"] })).id;
  await deliver(SESSION_START);
  await deliver(SESSION_START_2019);
  await deliver([
    copyOf(SESSION_EVENT, { outcome: { result: "FAILURE", reason: "INVALID_CREDENTIALS" }, actor: { ...SESSION_EVENT.actor, alternateId: "mallory@example.com" } }),
    copyOf(SESSION_EVENT, { eventType: "security.threat.detected", displayMessage: "Request from suspicious actor" }),
    ...Array.from({ length: 55 }, () => copyOf(DEACTIVATE_EVENT)),
  ]);
  await waitFor(() => receivedFor(REPLAY_UUID).length === 1 && received.length === 59, "the 59 seeded events at the receiver", 60_000);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await gateway?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("Overview", () => {
  it("charts the events received by type group, highlights failed sign-ins and security events, and shows each destination's health", async () => {
    const page = await newPage();
    await signIn(page);
    await page.getByText("Sessions and sign-in:").waitFor();
    const legend = await page.locator(".legend li").allTextContents();
    expect(legend).toEqual([expect.stringMatching(/User lifecycle: 55$/), expect.stringMatching(/Sessions and sign-in: 3$/), expect.stringMatching(/Security: 1$/)]);
    const failed = page.locator(".tile", { hasText: "Failed sign-ins" });
    await failed.locator(".tile-value", { hasText: /^1$/ }).waitFor();
    expect(await failed.getAttribute("class")).toContain("alert");
    expect(await failed.locator(".recent").textContent()).toContain("mallory@example.com");
    await page.locator(".tile", { hasText: "Security events" }).locator(".tile-value", { hasText: /^1$/ }).waitFor();
    await page.getByText(/^D1: .+ of 10\.0 GB/).waitFor();
    const tile = page.locator(`.tile[data-destination-id="${destinationId}"]`);
    await tile.getByText("100 % delivered").waitFor();
    expect(await tile.textContent()).toContain("No failure standing");
    await page.getByText("No inline hook call in the last 24 hours.", { exact: false }).waitFor();
    // The detailed health: the forwarding backlog, the last hour's dead letters, alerts (none configured here).
    const health = page.locator("section", { has: page.getByRole("heading", { name: "Gateway" }) });
    expect(await health.locator("dt").allTextContents()).toEqual(expect.arrayContaining(["Waiting to fan out", "Dead letters (last hour)", "Alerts to"]));
    await health.getByText("off (ALERT_DESTINATION_ID)").waitFor();
    await check(page, "overview");

    // The failed sign-ins tile opens the search it counted.
    await failed.locator("a.tile-value").click();
    await page.waitForURL(/#\/events\?type=user\.session\.start&outcome=FAILURE/);
    await page.getByRole("row", { name: /mallory@example\.com/ }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
  });
});

describe("Events and replay", () => {
  let page: Page;

  beforeAll(async () => {
    page = await newPage();
    await signIn(page);
  });

  it("filters by type and outcome, keeps the filters in the URL, and pages with Load more", async () => {
    await nav(page, "Events");
    // Newest first: the 55 lifecycle events arrived last; the first page holds 50 of them.
    await page.getByRole("row", { name: /user\.lifecycle\.deactivate/ }).first().waitFor();
    expect(await page.locator("tbody tr").count()).toBe(50);
    expect(await page.getByRole("row", { name: /security\.threat\.detected/ }).count()).toBe(0);
    await page.getByRole("button", { name: "Load more" }).click();
    await page.getByRole("row", { name: /security\.threat\.detected/ }).waitFor();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(59);
    await page.getByText("No older event matches.").waitFor();
    await check(page, "events");

    await page.getByLabel("Type").fill("user.session.*");
    await page.getByLabel("Outcome").selectOption("SUCCESS");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/#\/events\?type=user\.session\.\*&outcome=SUCCESS/);
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    expect(await page.locator("tbody td code").allTextContents()).toEqual(["user.session.start", "user.session.start"]);
    await check(page, "events-filtered");
  });

  it("adds an event Okta delivers while the page is open, live", async () => {
    const fresh = copyOf(SESSION_EVENT, { actor: { ...SESSION_EVENT.actor, alternateId: "live@example.com" } });
    await deliver([fresh]);
    await page.getByRole("row", { name: /live@example\.com/ }).waitFor({ timeout: 30_000 });
    expect(await page.locator("tbody tr").count()).toBe(3);
  });

  it("opens an event: Okta's payload pretty-printed, its delivery with every attempt", async () => {
    await page.getByRole("row", { name: /admin@okta\.com/ }).filter({ hasText: "2023" }).getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "user.session.start" }).waitFor();
    const payload = await page.getByLabel("Okta's event, pretty-printed").textContent();
    expect(JSON.parse(payload!)).toEqual(SESSION_EVENT);
    expect(payload).toContain('\n  "uuid": ');
    const attempts = page.getByRole("table", { name: "Attempts to Security SIEM" }).locator("tbody tr");
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().locator("td").nth(2).textContent()).toBe("200");
    await check(page, "event-detail");
  });

  it("replays it after a confirmation: the new attempt reaches the receiver and shows in the detail", async () => {
    await page.getByRole("button", { name: "Replay…" }).click();
    const dialog = page.getByRole("dialog", { name: "Replay this event?" });
    await dialog.getByLabel("Send to").selectOption({ label: "Security SIEM" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(receivedFor(REPLAY_UUID)).toHaveLength(1);

    await page.getByRole("button", { name: "Replay…" }).click();
    await dialog.getByLabel("Send to").selectOption({ label: "Security SIEM" });
    await dialog.getByRole("button", { name: "Replay" }).click();
    await waitFor(() => receivedFor(REPLAY_UUID).length === 2, "the replayed event at the receiver");
    const replayed = receivedFor(REPLAY_UUID)[1]!;
    expect(replayed.headers["okta-hooks-edge-replay-of"]).toBe(receivedFor(REPLAY_UUID)[0]!.headers["webhook-id"]);
    expect(replayed.headers["webhook-id"]).not.toBe(receivedFor(REPLAY_UUID)[0]!.headers["webhook-id"]);

    await page.locator(".notice.job", { hasText: /Replay job_\d+: finished/ }).filter({ hasText: "1 delivered" }).waitFor({ timeout: 30_000 });
    const attempts = page.getByRole("table", { name: "Attempts to Security SIEM" }).locator("tbody tr");
    await expect.poll(() => attempts.count(), { timeout: 20_000 }).toBe(2);
    expect(await attempts.nth(1).locator("td").nth(2).textContent()).toBe("200");
    expect(await attempts.nth(1).locator("td").last().textContent()).toMatch(/^job_\d+$/);
    await check(page, "event-replayed");
  });
});

describe("Destinations and dead letters", () => {
  let page: Page;
  const card = () => page.locator(`[data-destination-id="${destinationId}"]`);

  beforeAll(async () => {
    page = await newPage();
    await signIn(page);
    await nav(page, "Destinations");
  });

  it("pauses and resumes the destination", async () => {
    await card().getByRole("button", { name: "Pause" }).click();
    await card().locator(".badge", { hasText: "paused" }).waitFor();
    expect((await api("GET", `/destinations/${destinationId}`)).state).toBe("paused");
    await card().getByRole("button", { name: "Resume" }).click();
    await card().locator(".badge", { hasText: "active" }).waitFor();
    expect((await api("GET", `/destinations/${destinationId}`)).state).toBe("active");
  });

  it("sends a test event and shows its outcome, delivered or not", async () => {
    const before = received.length;
    await card().getByRole("button", { name: "Send test event" }).click();
    await card().getByText(/^Test event delivered: HTTP 200 in \d+ ms/).waitFor();
    await waitFor(() => received.length === before + 1, "the test event at the receiver");
    expect(JSON.parse(received.at(-1)!.body)).toMatchObject({ type: "gateway.test", data: { eventType: "gateway.test" } });
    await check(page, "destination-test-event");

    answer.status = 500;
    await card().getByRole("button", { name: "Send test event" }).click();
    await card().getByText(/^Test event not delivered: HTTP 500 in \d+ ms — HTTP 500 \(forwarding would retry this\)/).waitFor();
    answer.status = 200;
    // A test event is never recorded: no event is stored, no failure counted.
    expect((await api("GET", "/events?type=gateway.test")).events).toEqual([]);
    expect((await api("GET", `/destinations/${destinationId}`)).consecutiveFailures).toBe(0);
  });

  it("shows a dead letter as the last failure, redrives it once the receiver is fixed, and deletes another after a confirmation", async () => {
    const gone = copyOf(DEACTIVATE_EVENT, { displayMessage: "refused by the receiver" });
    const dropped = copyOf(DEACTIVATE_EVENT, { displayMessage: "refused, then acknowledged" });
    answer.byUuid.set(gone.uuid, 410).set(dropped.uuid, 410);
    await deliver([gone, dropped]);
    await waitFor(async () => (await api("GET", `/dead-letters?destinationId=${destinationId}`)).deadLetters.length === 2, "two dead letters");

    await page.reload();
    await card().getByText(/permanent failure: HTTP 410 · .+ · dead letter/).waitFor();
    await card().getByRole("link", { name: "Dead letters" }).click();
    await page.getByRole("heading", { level: 1, name: "Dead letters" }).waitFor();
    await expect.poll(() => page.getByLabel("Destination").inputValue()).toBe(destinationId);
    const row = (uuid: string) => page.locator(`tr[data-event-uuid="${uuid}"]`);
    await row(gone.uuid).getByText("permanent failure: HTTP 410").waitFor();
    await check(page, "dead-letters");

    answer.byUuid.delete(gone.uuid);
    await row(gone.uuid).getByRole("button", { name: /^Redrive/ }).click();
    await waitFor(() => receivedFor(gone.uuid).length === 2, "the redriven event at the receiver");
    // Redriven with its original webhook-id: the receiver never took it.
    expect(receivedFor(gone.uuid)[1]!.headers["webhook-id"]).toBe(receivedFor(gone.uuid)[0]!.headers["webhook-id"]);
    await row(gone.uuid).waitFor({ state: "detached" });

    await row(dropped.uuid).getByRole("button", { name: /^Delete/ }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this dead letter?" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect((await api("GET", `/dead-letters?destinationId=${destinationId}`)).deadLetters).toHaveLength(1);
    await row(dropped.uuid).getByRole("button", { name: /^Delete/ }).click();
    await dialog.getByRole("button", { name: "Delete dead letter" }).click();
    await page.getByRole("heading", { name: "No dead letters" }).waitFor();
    expect((await api("GET", `/dead-letters?destinationId=${destinationId}`)).deadLetters).toEqual([]);
    expect(receivedFor(dropped.uuid)).toHaveLength(1);
  });

  it("redrives every dead letter of the destination as a job, following its progress", async () => {
    const letters = [copyOf(DEACTIVATE_EVENT), copyOf(DEACTIVATE_EVENT)];
    for (const l of letters) answer.byUuid.set(l.uuid, 404);
    await deliver(letters);
    await waitFor(async () => (await api("GET", `/dead-letters?destinationId=${destinationId}`)).deadLetters.length === 2, "two dead letters");
    answer.byUuid.clear();
    await page.reload();
    await page.locator("tbody tr").nth(1).waitFor();
    await page.getByRole("button", { name: "Redrive all…" }).click();
    await page.getByRole("dialog", { name: "Redrive every dead letter of Security SIEM?" }).getByRole("button", { name: "Redrive all" }).click();
    await page.locator(".notice.job", { hasText: /Redrive job_\d+: finished — 2 selected, 2 handed to forwarding, 0 skipped \(still in progress\), 2 delivered, 0 dead/ }).waitFor({ timeout: 45_000 });
    for (const l of letters) expect(receivedFor(l.uuid)).toHaveLength(2);
    await page.getByRole("heading", { name: "No dead letters" }).waitFor();
    await check(page, "dead-letters-redriven");
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to okta-hooks-edge" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});

describe("Inline hooks: recent calls and the Overview's decisions per type", () => {
  let ruleId: string;

  /** An inline hook call as Okta makes it, with its fixture's body; the answer's status. */
  async function inlineCall(type: string, fixture: string, requestId: string): Promise<number> {
    const res = await fetch(`${gateway.baseUrl}/hooks/inline/${type}`, {
      method: "POST",
      headers: { authorization: E2E_INLINE_SECRET, "content-type": "application/json", "x-okta-request-id": requestId },
      body: fixtureText(fixture),
    });
    await res.arrayBuffer();
    return res.status;
  }

  beforeAll(async () => {
    // The registration example's email is at example.com: this rule denies it.
    ruleId = (
      await api<Json>("POST", "/rules", {
        kind: "registration.email-domain",
        name: "No example.com",
        definition: { deny: ["example.com"], errorSummary: "Registration refused.", fieldMessage: "Use your work email." },
      })
    ).id;
    expect(await inlineCall("token", "token-hook.request.json", "browser-token-1")).toBe(204);
    expect(await inlineCall("token", "token-hook.request.json", "browser-token-2")).toBe(204);
    expect(await inlineCall("registration", "registration-hook.request.ssr.json", "browser-registration")).toBe(200);
    // The audit is written within INLINE_AUDIT_FLUSH_MS (1 s) of each call.
    await waitFor(async () => (await api<{ calls: unknown[] }>("GET", "/inline-calls")).calls.length === 3, "the three inline hook calls in the audit");
  });

  it("lists a type's recent calls with decision, decided-by, fallback, latency and time, and filters them", async () => {
    const page = await newPage();
    await signIn(page);
    await nav(page, "Inline hooks");
    await page.getByRole("link", { name: /^Registration/ }).click();
    const calls = page.getByRole("table", { name: "Registration hook calls, newest first" });
    const row = calls.locator('tr[data-okta-request-id="browser-registration"]');
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(1)).toEqual(["DENY", `rules:${ruleId}`, "—", expect.stringMatching(/^\d[\d,]* ms$/), "200"]);
    expect(cells[0]).not.toBe("—");
    await check(page, "inline-calls");

    // Decided by a handler: none of these.
    await page.getByLabel("Decided by").selectOption("handler");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No call matches these filters.").waitFor();
    await page.getByRole("button", { name: "Clear" }).click();
    await row.waitFor();

    // The token tab: its two calls, answered by the default.
    await page.getByRole("link", { name: /^Token/ }).click();
    const tokens = page.getByRole("table", { name: "Token hook calls, newest first" });
    await tokens.locator('tr[data-okta-request-id="browser-token-1"]').waitFor();
    expect(await tokens.locator("tbody tr").count()).toBe(2);
    expect(await tokens.locator("tbody tr td:nth-child(3)").allTextContents()).toEqual(["default", "default"]);
    // A decision the API refuses is shown at its field.
    await page.getByLabel("Decision").fill("not a decision");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.locator("#call-decision-error").getByText(/must be a decision/).waitFor();
    expect(await page.getByLabel("Decision").getAttribute("aria-invalid")).toBe("true");
  });

  it("shows decisions and p95 latency per type on the Overview", async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await newPage(viewport);
      await signIn(page);
      const table = page.getByRole("table", { name: "Inline hook calls, last 24 hours" });
      const token = table.locator('tr[data-inline-type="token"]');
      await token.waitFor();
      expect((await token.locator("td").allTextContents()).slice(0, 3)).toEqual(["2", "empty 2", "—"]);
      expect(await token.locator("td").nth(3).textContent()).toMatch(/^\d[\d,]*$/);
      expect((await table.locator('tr[data-inline-type="registration"] td').allTextContents()).slice(0, 2)).toEqual(["1", "DENY 1"]);
      expect(await table.locator("tbody tr").count()).toBe(2);
      await check(page, "overview-inline");
      if (viewport === PHONE) {
        await page.goto(`${gateway.baseUrl}/admin/#/inline-hooks?type=registration`);
        await page.locator('tr[data-okta-request-id="browser-registration"]').waitFor();
        await check(page, "inline-calls");
      }
    }
  });
});

describe("states the real API cannot produce on demand (its answers given in the browser with page.route)", () => {
  it("a gateway without the operations API: each page says what is not available and what still works", async () => {
    const page = await newPage();
    // An older gateway answers 404 for the operations API's routes; an event's deliveries are still there.
    await page.route(
      (url) => /^\/admin\/api\/(events|replays|stats|dead-letters|inline-calls)(\/|$)/.test(url.pathname) && !url.pathname.endsWith("/deliveries"),
      (route) => route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: { code: "not_found", message: "No such route." } }) }),
    );
    await signIn(page);
    await page.getByText("Not available on this gateway yet: event statistics.").waitFor();
    await page.getByText("Not available on this gateway yet: inline hook decisions and p95 latency per type.").waitFor();
    await nav(page, "Events");
    await page.getByText("Not available on this gateway yet: event search.").waitFor();
    await page.getByLabel("Open an event by its uuid").fill(REPLAY_UUID);
    await page.getByRole("button", { name: "Open" }).click();
    await page.getByRole("heading", { level: 1, name: "user.session.start" }).waitFor();
    await page.getByRole("table", { name: "Attempts to Security SIEM" }).waitFor();
    await page.getByText("Not available on this gateway yet: the event's payload and replay.").waitFor();
    await page.goto(`${gateway.baseUrl}/admin/#/dead-letters`);
    await page.getByText("Not available on this gateway yet: dead letters.").waitFor();
    await check(page, "dead-letters-unavailable");
    await page.goto(`${gateway.baseUrl}/admin/#/inline-hooks?type=token`);
    await page.getByText("Not available on this gateway yet: recent inline hook calls.").waitFor();
  });

  it("a storage failure: the search says so, stops its live updates, and tries again when asked", async () => {
    const page = await newPage();
    let failing = true;
    await page.route(
      (url) => url.pathname === "/admin/api/events",
      (route) =>
        failing
          ? route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "storage_unavailable", message: "Storage is unavailable; try again." } }) })
          : route.fallback(),
    );
    await signIn(page);
    await nav(page, "Events");
    await page.getByRole("alert").getByText("Storage is unavailable; try again.").waitFor();
    failing = false;
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByRole("row", { name: /user\.lifecycle\.deactivate/ }).first().waitFor();
  });
});

describe("every operations page at phone width", () => {
  it("screenshots and no serious accessibility violation", async () => {
    const page = await newPage(PHONE);
    await signIn(page);
    for (const [name, fragment, heading] of [
      ["overview", "#/overview", "Overview"],
      ["events", "#/events", "Events"],
      ["event-replayed", `#/events/${REPLAY_UUID}`, "user.session.start"],
      ["destinations", "#/destinations", "Destinations"],
      ["dead-letters", `#/dead-letters?destination=${destinationId}`, "Dead letters"],
    ] as const) {
      await page.goto(`${gateway.baseUrl}/admin/${fragment}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await check(page, name);
    }
  });

  it("saw no Content-Security-Policy violation and no uncaught error on any page", () => {
    expect(watches.flatMap((w) => [...w.cspViolations, ...w.pageErrors])).toEqual([]);
    // The only console errors are the browser's notes of the answers asked for: the 404s and the 503 given above,
    // and the 400 of the refused inline call filter.
    const unexpected = watches.flatMap((w) => w.consoleErrors).filter((e) => !/^Failed to load resource: the server responded with a status of (400|404|503)\b/.test(e));
    expect(unexpected).toEqual([]);
  });
});
