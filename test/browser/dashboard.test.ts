/// <reference lib="dom" />
/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against the real Worker under
 * `wrangler dev` with local D1 and Queues: sign-in (a wrong token refused, the right one accepted), a destination
 * created with its secret shown once, a filter refused at its field and fixed, pause and resume, an event Okta
 * delivered followed to a receiver on 127.0.0.1, an inline hook rule refused at the field and fixed, reordered and
 * disabled, a lookup table, secret rotation and deletion behind confirmations, a refused token sending you back to
 * sign-in, sign-out clearing the token. Every page is then visited at desktop (1280×800) and phone (390×844)
 * widths, in the light and the dark scheme: a screenshot each (test-artifacts/dashboard/), axe-core with no serious
 * or critical violation, and no Content-Security-Policy violation on any page of the run.
 *
 * The operations pages (events, replay, dead letters, the overview's stats) have their own file,
 * operations.test.ts, with the states of a gateway without that API. Every wait is bounded.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, startGateway, type Gateway } from "../e2e/gateway.js";
import { DESKTOP, launchChromium, PHONE, screenshot, seriousAccessibilityViolations, signIn as signInAs, watchedPage, type PageWatch } from "./browser.js";

const TOKEN_KEY = "okta-hooks-edge.admin-token";
const SESSION_START = readFileSync(path.resolve(import.meta.dirname, "../fixtures/okta/event-hook.delivery.user-session-start.json"), "utf8");
const SESSION_START_UUID = "f1d0b993-cc19-11ed-a688-db22c99ef6c4";

let gateway: Gateway;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
const received: string[] = [];
const watches: PageWatch[] = [];
const contexts: BrowserContext[] = [];

async function newPage(options: { viewport?: { width: number; height: number }; colorScheme?: "light" | "dark" } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, colorScheme: options.colorScheme ?? "light" });
  contexts.push(context);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gateway.baseUrl });
  const { page, watch } = await watchedPage(context);
  watches.push(watch);
  page.setDefaultTimeout(20_000);
  return page;
}

const signIn = (page: Page) => signInAs(page, gateway.baseUrl, E2E_ADMIN_TOKEN);

const storedToken = (page: Page) => page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY);

async function api<T>(pathname: string): Promise<T> {
  const res = await fetch(`${gateway.baseUrl}${pathname}`, { headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  expect(res.status, pathname).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/okta`;
  [gateway, browser] = await Promise.all([
    startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1" } }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await gateway?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("dashboard: sign-in", () => {
  it("serves /admin/ with its Content-Security-Policy", async () => {
    const page = await newPage();
    const response = await page.goto(`${gateway.baseUrl}/admin/`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    await page.getByRole("heading", { name: "Sign in to okta-hooks-edge" }).waitFor();
    await screenshot(page, "sign-in");
  });

  it("refuses a wrong token at the field and keeps nothing; accepts the right one", async () => {
    const page = await newPage();
    await page.goto(`${gateway.baseUrl}/admin/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#admin-token-error").filter({ hasText: "Enter the admin token" }).waitFor();

    await page.getByLabel("Admin token").fill("not-the-admin-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#admin-token-error").filter({ hasText: "refused this token" }).waitFor();
    expect(await page.getByLabel("Admin token").getAttribute("aria-invalid")).toBe("true");
    expect(await storedToken(page)).toBeNull();
    expect(page.url()).not.toContain("not-the-admin-token");
    await screenshot(page, "sign-in-refused");

    await page.getByLabel("Admin token").fill(E2E_ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    expect(await storedToken(page)).toBe(E2E_ADMIN_TOKEN);
    // Never a cookie, never in the URL, never in localStorage.
    expect(await page.context().cookies()).toEqual([]);
    expect(page.url()).not.toContain(E2E_ADMIN_TOKEN);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });

  it("lets the keyboard skip to the content, and shows where focus is", async () => {
    const page = await newPage();
    await signIn(page);
    // A fresh load of the dashboard (signed in): the first Tab reaches the skip link.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to content" });
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await skip.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe("none");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // Navigation is reachable by Tab and marks the current page.
    expect(await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Overview" }).getAttribute("aria-current")).toBe("page");
  });
});

describe("dashboard: destinations", () => {
  let page: Page;
  let destinationId: string;

  beforeAll(async () => {
    page = await newPage();
    await signIn(page);
  });

  it("says what to do when there is none, then creates one and shows its secret once, with a copy button", async () => {
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Destinations" }).click();
    await page.getByRole("heading", { name: "No destinations yet" }).waitFor();
    await screenshot(page, "destinations-empty");
    await page.getByRole("link", { name: "New destination" }).click();
    await page.getByLabel("Name").fill("Security SIEM");
    await page.getByLabel("URL").fill(receiverUrl);
    await page.getByLabel("Event types").fill("user.session.*\nsecurity.*");
    await page.getByRole("button", { name: "Create destination" }).click();
    await page.getByRole("heading", { name: "Security SIEM was created" }).waitFor();
    const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await screenshot(page, "destination-secret");
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    const { destinations } = await api<{ destinations: Array<{ id: string; name: string; eventTypes: string[] }> }>("/admin/api/destinations");
    expect(destinations).toMatchObject([{ name: "Security SIEM", eventTypes: ["user.session.*", "security.*"] }]);
    destinationId = destinations[0]!.id;

    // Shown once: back on the list, nowhere on the page and in no storage.
    await page.getByRole("link", { name: "Back to destinations" }).click();
    await page.locator(`[data-destination-id="${destinationId}"]`).waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(JSON.stringify(await page.evaluate(() => ({ ...sessionStorage, ...localStorage })))).not.toContain(secret);
  });

  it("refuses a bad event-type filter at its field, and saves once it is fixed", async () => {
    await page.locator(`[data-destination-id="${destinationId}"]`).getByRole("link", { name: "Edit" }).click();
    await page.getByRole("heading", { level: 1, name: "Edit Security SIEM" }).waitFor();
    await page.getByLabel("Event types").fill("user.session.*\nnot a type!");
    await page.getByRole("button", { name: "Save changes" }).click();
    const error = page.locator("#eventTypes-error");
    await error.filter({ hasText: /^\[1\]: must be an event type/ }).waitFor();
    expect(await page.getByLabel("Event types").getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("eventTypes");
    await screenshot(page, "destination-field-error");
    expect((await api<{ eventTypes: string[] }>(`/admin/api/destinations/${destinationId}`)).eventTypes).toEqual(["user.session.*", "security.*"]);

    await page.getByLabel("Event types").fill("user.session.*");
    await page.getByLabel("Outcome results").fill("SUCCESS, FAILURE");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { level: 1, name: "Destinations" }).waitFor();
    expect(await api(`/admin/api/destinations/${destinationId}`)).toMatchObject({
      eventTypes: ["user.session.*"],
      conditions: { outcomeResults: ["SUCCESS", "FAILURE"] },
    });
  });

  it("pauses and resumes it", async () => {
    const card = page.locator(`[data-destination-id="${destinationId}"]`);
    await card.getByRole("button", { name: "Pause" }).click();
    await card.locator(".badge", { hasText: "paused" }).waitFor();
    await page.getByText("Security SIEM is paused").waitFor();
    expect((await api<{ state: string }>(`/admin/api/destinations/${destinationId}`)).state).toBe("paused");
    await card.getByRole("button", { name: "Resume" }).click();
    await card.locator(".badge", { hasText: "active" }).waitFor();
    expect((await api<{ state: string }>(`/admin/api/destinations/${destinationId}`)).state).toBe("active");
    await screenshot(page, "destinations");
    await page.setViewportSize(PHONE);
    await screenshot(page, "destinations-one");
    await page.setViewportSize(DESKTOP);
  });

  it("shows where an event Okta delivered went, attempt by attempt", async () => {
    const res = await fetch(`${gateway.baseUrl}/hooks/events`, {
      method: "POST",
      headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json" },
      body: SESSION_START,
    });
    expect(res.status).toBe(204);
    const deadline = Date.now() + 45_000;
    while (!received.some((body) => body.includes(SESSION_START_UUID)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(received.some((body) => body.includes(SESSION_START_UUID))).toBe(true);

    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Events" }).click();
    await page.getByRole("row", { name: /user\.session\.start/ }).waitFor();
    await page.getByLabel("Open an event by its uuid").fill(SESSION_START_UUID);
    await page.getByRole("button", { name: "Open" }).click();
    await page.getByRole("heading", { level: 1, name: "user.session.start" }).waitFor();
    const delivery = page.locator(".card", { has: page.getByRole("heading", { name: "Security SIEM" }) });
    // The first attempt may still be on its way when the page loads; reload a bounded number of times.
    for (let i = 0; i < 20 && !(await delivery.locator(".badge", { hasText: "delivered" }).isVisible()); i++) {
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "user.session.start" }).waitFor();
    }
    await delivery.locator(".badge", { hasText: "delivered" }).waitFor();
    const attempt = delivery.getByRole("table").locator("tbody tr").first();
    expect(await attempt.locator("td").nth(2).textContent()).toBe("200");
    expect(JSON.parse((await page.getByLabel("Okta's event, pretty-printed").textContent())!)).toEqual(JSON.parse(SESSION_START).data.events[0]);
    await screenshot(page, "event-deliveries");
  });

  it("rotates the secret behind a confirmation and shows the new one once", async () => {
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Destinations" }).click();
    const card = page.locator(`[data-destination-id="${destinationId}"]`);
    await card.getByRole("button", { name: "Rotate secret" }).click();
    const dialog = page.getByRole("dialog", { name: /Rotate the signing secret of Security SIEM/ });
    await dialog.getByLabel("Keep the previous secret valid for (hours)").fill("2");
    await dialog.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByRole("heading", { name: "New signing secret of Security SIEM" }).waitFor();
    expect(await page.getByLabel("Signing secret", { exact: true }).inputValue()).toMatch(/^whsec_/);
    expect((await api<{ previousSecretExpiresAt: string | null }>(`/admin/api/destinations/${destinationId}`)).previousSecretExpiresAt).not.toBeNull();
    await page.getByRole("button", { name: "Done, I copied it" }).click();
  });

  it("deletes only after a confirmation", async () => {
    const card = page.locator(`[data-destination-id="${destinationId}"]`);
    await card.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete Security SIEM?" });
    await screenshot(page, "destination-delete-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect((await api<{ destinations: unknown[] }>("/admin/api/destinations")).destinations).toHaveLength(1);
    await card.getByRole("button", { name: "Delete" }).click();
    await dialog.getByRole("button", { name: "Delete destination" }).click();
    await page.getByText("Security SIEM was deleted.").waitFor();
    expect((await api<{ destinations: unknown[] }>("/admin/api/destinations")).destinations).toHaveLength(0);
  });
});

describe("dashboard: inline hook rules and lookup tables", () => {
  let page: Page;

  beforeAll(async () => {
    page = await newPage();
    await signIn(page);
  });

  it("shows a bad definition's error at its field, and saves once it is fixed", async () => {
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Inline hooks" }).click();
    await page.getByRole("navigation", { name: "Inline hook types" }).getByRole("link", { name: /Registration/ }).click();
    await page.getByRole("heading", { name: "No registration rules yet" }).waitFor();
    await page.getByRole("link", { name: "New registration rule" }).click();
    await page.getByLabel("What the rule does").selectOption("registration.attribute-pattern");
    await page.getByLabel("Name (optional)").fill("No plus addresses");
    await page.getByLabel("Attribute").fill("email");
    await page.getByLabel("Pattern (RE2 regular expression)").fill("^[^+]+@(example\\.com");
    await page.getByRole("button", { name: "Create rule" }).click();
    const error = page.locator("#rule-definition-pattern-error");
    await error.filter({ hasText: "is not a valid RE2 regular expression" }).waitFor();
    expect(await page.getByLabel("Pattern (RE2 regular expression)").getAttribute("aria-invalid")).toBe("true");
    expect((await api<{ rules: unknown[] }>("/admin/api/rules")).rules).toHaveLength(0);
    await screenshot(page, "rule-field-error");

    await page.getByLabel("Pattern (RE2 regular expression)").fill("\\+");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.getByRole("heading", { level: 1, name: "Inline hooks" }).waitFor();
    await page.getByRole("row", { name: /No plus addresses/ }).waitFor();
    expect((await api<{ rules: unknown[] }>("/admin/api/rules?type=registration")).rules).toMatchObject([
      { kind: "registration.attribute-pattern", name: "No plus addresses", definition: { attribute: "email", pattern: "\\+", effect: "deny-if-match" } },
    ]);
  });

  it("reorders rules by priority, and disables one", async () => {
    await page.getByRole("link", { name: "New registration rule" }).click();
    await page.getByLabel("What the rule does").selectOption("registration.email-domain");
    await page.getByLabel("Name (optional)").fill("Work domains");
    await page.getByLabel("Allowed domains (optional)").fill("example.com\n*.example.org");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.getByRole("row", { name: /Work domains/ }).waitFor();
    const names = () => page.locator("tbody th[scope=row]").allTextContents();
    // Both have the default priority (100): the list shows the evaluation order, ties broken by id.
    const before = await names();
    expect([...before].sort()).toEqual(["No plus addresses", "Work domains"]);

    await page.getByRole("button", { name: `Move ${before[1]} up` }).click();
    await expect.poll(names, { timeout: 20_000 }).toEqual([before[1], before[0]]);
    const rules = (await api<{ rules: Array<{ name: string; priority: number }> }>("/admin/api/rules?type=registration")).rules;
    expect(rules.map((r) => r.name)).toEqual([before[1], before[0]]);
    expect(rules.map((r) => r.priority)).toEqual([10, 20]);
    expect(await page.getByRole("button", { name: `Move ${before[1]} up` }).isDisabled()).toBe(true);

    await page.getByRole("row", { name: /No plus addresses/ }).getByRole("button", { name: "Disable" }).click();
    await page.getByRole("row", { name: /No plus addresses/ }).getByRole("button", { name: "Enable" }).waitFor();
    expect((await api<{ rules: Array<{ name: string; enabled: boolean }> }>("/admin/api/rules?type=registration")).rules.find((r) => r.name === "No plus addresses")?.enabled).toBe(false);
    await screenshot(page, "inline-hooks");
  });

  it("edits a token claim rule whose value comes from a lookup table, and that table's entries", async () => {
    await page.getByRole("navigation", { name: "Inline hook types" }).getByRole("link", { name: /Token/ }).click();
    await page.getByRole("link", { name: "New token rule" }).click();
    await page.getByLabel("Claim name").fill("sub");
    await page.getByLabel("Token", { exact: true }).selectOption("identity");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.locator("#rule-definition-claim-error").filter({ hasText: "reserved" }).waitFor();
    await page.getByLabel("Claim name").fill("tier");
    await page.getByLabel("Value from").selectOption("lookup");
    await page.getByLabel("Lookup table").fill("tiers");
    await page.getByLabel("Key attribute").fill("login");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.getByRole("row", { name: /tier/ }).waitFor();

    await page.getByRole("link", { name: "tiers" }).click();
    await page.getByRole("heading", { level: 1, name: "Lookup table tiers" }).waitFor();
    await page.getByLabel("Key", { exact: true }).fill("alice@example.com");
    await page.getByLabel("Value (JSON)").fill("gold");
    await page.getByRole("button", { name: "Save entry" }).click();
    await page.locator("#value-error").filter({ hasText: "is not JSON" }).waitFor();
    await page.getByLabel("Value (JSON)").fill('"gold"');
    await page.getByRole("button", { name: "Save entry" }).click();
    await page.getByRole("row", { name: /alice@example\.com/ }).waitFor();
    expect(await api("/admin/api/rules/lookup-tables/tiers")).toMatchObject({ entries: [{ key: "alice@example.com", value: "gold" }] });
    await screenshot(page, "lookup-table");
    // The inline hooks page lists the table with its entry count (GET /admin/api/rules/lookup-tables).
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Inline hooks" }).click();
    await page.locator(".table-list li", { hasText: "tiers" }).filter({ hasText: "1 entry · read by rules" }).waitFor();
  });
});

describe("dashboard: the session ends", () => {
  it("sends you back to sign-in, saying why, when the gateway refuses the token", async () => {
    const page = await newPage();
    await signIn(page);
    await page.evaluate((key) => sessionStorage.setItem(key, "a-rotated-away-token"), TOKEN_KEY);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in to okta-hooks-edge" }).waitFor();
    await page.getByText("The gateway refused the admin token").waitFor();
    expect(await storedToken(page)).toBeNull();
  });

  it("signs out: the token is gone from sessionStorage", async () => {
    const page = await newPage();
    await signIn(page);
    expect(await storedToken(page)).toBe(E2E_ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to okta-hooks-edge" }).waitFor();
    await page.getByText("You signed out.").waitFor();
    expect(await storedToken(page)).toBeNull();
    await page.reload();
    await page.getByRole("heading", { name: "Sign in to okta-hooks-edge" }).waitFor();
  });
});

describe("dashboard: every page, at both widths and in both schemes", () => {
  const pages = [
    ["overview", "#/overview", "Overview"],
    ["events", "#/events", "Events"],
    ["event", `#/events/${SESSION_START_UUID}`, "user.session.start"],
    ["destinations", "#/destinations", "Destinations"],
    ["destination-new", "#/destinations/new", "New destination"],
    ["dead-letters", "#/dead-letters", "Dead letters"],
    ["inline-hooks", "#/inline-hooks?type=registration", "Inline hooks"],
    ["rule-new", "#/inline-hooks/rules/new?type=token", "New token rule"],
    ["lookup-table", "#/inline-hooks/lookup-tables/tiers", "Lookup table tiers"],
  ] as const;

  for (const [viewport, colorScheme] of [
    [DESKTOP, "light"],
    [PHONE, "light"],
    [DESKTOP, "dark"],
    [PHONE, "dark"],
  ] as const) {
    it(`${viewport.width}×${viewport.height}, ${colorScheme}: screenshots, no serious accessibility violation`, async () => {
      const page = await newPage({ viewport, colorScheme });
      await page.goto(`${gateway.baseUrl}/admin/`);
      expect(await seriousAccessibilityViolations(page), "sign-in").toEqual([]);
      await signIn(page);
      for (const [name, fragment, heading] of pages) {
        await page.goto(`${gateway.baseUrl}/admin/${fragment}`);
        await page.getByRole("heading", { level: 1, name: heading }).waitFor();
        await page.locator(".loading").first().waitFor({ state: "detached", timeout: 20_000 }).catch(() => {});
        await page.waitForLoadState("networkidle");
        // The gateway has the stats API: the overview shows D1's size against its cap once the stats are in.
        if (name === "overview") await page.getByText(/^D1: /).waitFor();
        await screenshot(page, colorScheme === "dark" ? `${name}-dark` : name);
        expect(await seriousAccessibilityViolations(page), name).toEqual([]);
      }
    });
  }

  it("saw no Content-Security-Policy violation and no uncaught error on any page", () => {
    expect(watches.length).toBeGreaterThan(5);
    expect(watches.flatMap((w) => w.cspViolations)).toEqual([]);
    expect(watches.flatMap((w) => w.pageErrors)).toEqual([]);
    // The only console errors are the browser's notes of answers these tests asked for: 404s of things looked up
    // that do not exist, the refused tokens' 401s and the refused inputs' 400s.
    const unexpected = watches.flatMap((w) => w.consoleErrors).filter((e) => !/^Failed to load resource: the server responded with a status of (400|401|404)\b/.test(e));
    expect(unexpected).toEqual([]);
  });
});
