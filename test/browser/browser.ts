/// <reference lib="dom" />
/**
 * The real browser of the dashboard tests: Debian's chromium (/usr/bin/chromium, installed by .ci/run when missing;
 * never a browser download) driven by playwright-core, headless, with nothing reaching out (no sync, no component
 * updates, no background networking, no QUIC). playwright's launch() gives every browser a fresh temporary
 * --user-data-dir of its own and removes it on close.
 *
 * Helpers record what a test must check on every page: Content-Security-Policy violations (the page's own
 * securitypolicyviolation events and the console's reports of them), console errors and uncaught exceptions, and
 * axe-core's findings (axe-core is read from node_modules and evaluated through the DevTools protocol, which the
 * page's CSP does not govern, so the CSP under test stays exactly as served).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = path.resolve(import.meta.dirname, "../..");
/** Screenshots of every page at both widths (gitignored; CI keeps them as artifacts). */
export const ARTIFACTS = path.join(ROOT, "test-artifacts", "dashboard");

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (as root: apt-get update && apt-get install -y chromium); .ci/run does this`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true, timeout: 60_000 });
}

export interface PageWatch {
  cspViolations: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

/** A new page in `context` whose CSP violations, console errors and uncaught exceptions are recorded. */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; watch: PageWatch }> {
  const watch: PageWatch = { cspViolations: [], consoleErrors: [], pageErrors: [] };
  const page = await context.newPage();
  await page.exposeFunction("__reportCspViolation", (text: string) => watch.cspViolations.push(text));
  // Runs before the page's own scripts, through DevTools (not subject to the CSP).
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCspViolation(t: string): void }).__reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Content-Security-Policy|Trusted Type/i.test(text)) watch.cspViolations.push(text);
    else if (message.type() === "error") watch.consoleErrors.push(text);
  });
  page.on("pageerror", (error) => watch.pageErrors.push(String(error)));
  return { page, watch };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules, best practices). */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // A string is evaluated as a script through DevTools (Runtime.evaluate), outside the page's CSP.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, options: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Sign in at `baseUrl`/admin/ with `token` through the form, as a person does, and wait for the Overview. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
}

/** Save the page as test-artifacts/dashboard/<name>-<width>.png (full page). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  const file = path.join(ARTIFACTS, `${name}-${width}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
