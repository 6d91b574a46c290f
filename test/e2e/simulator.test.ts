/**
 * `npm run simulate` and `npm run tail` end to end: the simulator, run as a user runs it, sends every scenario to
 * the real Worker (wrangler dev, local D1 and Queues, inline rules set up through the admin API so answers carry
 * commands) and Okta would accept every answer; what it delivered is stored once per event; the Worker's own log
 * lines of that run, as `wrangler tail --format json` would carry them, render one line per request. And against a
 * deliberately wrong server (a forbidden command, a 500, a slow answer, an oversized one, a 4xx for a delivery) it
 * fails with exit 1 and says why.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devLogLines, tailOutput, tailRecords } from "../tools/tail-session.ts";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, E2E_INLINE_SECRET, startGateway, type Gateway } from "./gateway";

const ROOT = path.resolve(import.meta.dirname, "../..");
const NODE = path.join(ROOT, "node_modules", ".bin", "node");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node scripts/<script>` as npm would, with nothing of the developer's secrets in the environment. */
function runScript(script: string, args: string[], stdin?: string): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  for (const name of ["EVENT_HOOK_SECRETS", "INLINE_HOOK_SECRETS", "EVENT_HOOK_AUTH_HEADER", "INLINE_HOOK_AUTH_HEADER"]) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [path.join(ROOT, "scripts", script), ...args], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? "");
  });
}

const secrets = ["--event-secret", E2E_EVENT_SECRET, "--inline-secret", E2E_INLINE_SECRET, "--dev-vars", "/nonexistent/.dev.vars"];

let gw: Gateway;

async function admin(method: string, route: string, body: unknown): Promise<void> {
  const res = await fetch(`${gw.baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  gw = await startGateway();
  // Rules that make every inline type answer with commands (docs/inline-hooks.md "Rules").
  const rules = [
    { kind: "token.claim", definition: { token: "identity", claim: "department", value: { from: "static", value: "Engineering" } } },
    { kind: "token.claim", definition: { token: "access", claim: "tenant", value: { from: "static", value: "acme" } } },
    { kind: "registration.email-domain", definition: { allow: ["acme.example"], errorSummary: "Use your work email.", fieldMessage: "Only acme.example emails can register." } },
    { kind: "registration.default-profile", definition: { values: { locale: "en_US" } } },
    { kind: "saml.attribute", definition: { attribute: "department", value: { from: "static", value: "Engineering" } } },
    { kind: "user-import.link-by-attribute", definition: { appUserAttribute: "email", table: "okta-users", lowercaseKey: true } },
  ];
  for (const rule of rules) await admin("POST", "/admin/api/rules", rule);
  await admin("PUT", "/admin/api/rules/lookup-tables/okta-users/entries/sally.admin@clouditude.net", { value: "00u1linkedUser000001" });
});
afterAll(async () => {
  await gw?.stop();
});

interface JsonReport {
  errors: number;
  warnings: number;
  eventsSent: number;
  distinctEvents: number;
  results: Array<{ scenario: string; label: string; path: string; status: number; decision?: string; findings: unknown[]; uuids?: string[] }>;
}

describe("npm run simulate against the real Worker", () => {
  let report: JsonReport;

  it("runs every scenario and Okta would accept every answer; each delivered event is stored once", async () => {
    const logLinesBefore = devLogLines(gw.output()).length;
    const run = await runScript("simulate.ts", ["--url", gw.baseUrl, ...secrets, "--seed", "20261124", "--format", "json"]);
    expect(run.stderr).toBe("");
    report = JSON.parse(run.stdout) as JsonReport;
    const failures = report.results.filter((r) => r.findings.length > 0);
    expect(failures).toEqual([]);
    expect(run.code).toBe(0);
    expect(new Set(report.results.map((r) => r.scenario))).toEqual(
      new Set(["verify", "events", "duplicates", "retry", "token", "registration", "password-import", "saml", "user-import", "telephony"]),
    );
    // Every eligible type, plus Okta's duplicate and retry.
    expect(report.distinctEvents).toBeGreaterThanOrEqual(314);
    expect(report.eventsSent - report.distinctEvents).toBe(1 + 3);
    const [counts] = await gw.query<{ n: number; distinct_uuids: number }>("SELECT COUNT(*) AS n, COUNT(DISTINCT uuid) AS distinct_uuids FROM events");
    expect(counts).toEqual({ n: report.distinctEvents, distinct_uuids: report.distinctEvents });
    const types = await gw.query<{ n: number }>("SELECT COUNT(DISTINCT event_type) AS n FROM events");
    expect(types[0]!.n).toBe(314);

    // The rules answered with commands, checked against Okta's contract above.
    const decision = (scenario: string, label: string) => report.results.find((r) => r.scenario === scenario && r.label === label)?.decision;
    expect(decision("token", "ID and access token")).toBe("add /claims/department; add /claims/tenant");
    expect(decision("token", "access token only")).toBe("add /claims/tenant");
    expect(decision("registration", "self-service registration")).toBe("user.profile.update locale");
    expect(decision("registration", "self-service registration, outside the org's email domain")).toBe("DENY; error");
    expect(decision("saml", "SP-initiated sign-in to a custom SAML app")).toBe("add /claims/department");
    expect(decision("user-import", "a new user (CREATE_USER)")).toBe("LINK_USER; user.update id");
    expect(decision("telephony", "pre-enrollment by SMS")).toBe("telephony FAILED");

    // The same run's log lines, as wrangler tail --format json carries them, through npm run tail.
    await new Promise((r) => setTimeout(r, 500));
    const lines = devLogLines(gw.output()).slice(logLinesBefore);
    const tail = await runScript("tail.ts", ["--format", "json", "--route", "/hooks"], tailOutput(tailRecords(lines)));
    expect(tail.stderr).toBe("");
    expect(tail.code).toBe(0);
    const entries = tail.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(report.results.length);
    const posts = entries.filter((e) => e.route === "/hooks/events" && e.method === "POST");
    expect(posts.reduce((n, e) => n + (e.stored as number), 0)).toBe(report.distinctEvents);
    expect(posts.reduce((n, e) => n + (e.duplicates as number), 0)).toBe(4);
    expect(entries.filter((e) => e.inlineType === "token").map((e) => e.decision)).toEqual(["patch", "patch", "patch"]);

    const pretty = await runScript("tail.ts", ["--route", "/hooks/inline/registration"], tailOutput(tailRecords(lines)));
    const rendered = pretty.stdout.trim().split("\n");
    expect(rendered).toHaveLength(4);
    for (const line of rendered) expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}POST {3}\/hooks\/inline\/registration +200 +\d+ ms {2}registration → (update|DENY) by \d+ rules? {2}(d1 .* {2})?#[0-9a-f]{8}$/);
    expect(pretty.stdout).not.toContain(E2E_INLINE_SECRET);
  });

  it("prints a readable report", async () => {
    const run = await runScript("simulate.ts", ["--url", gw.baseUrl, ...secrets, "verify", "retry", "token"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Okta simulator → ${gw.baseUrl}`);
    expect(run.stdout).toMatch(/✔ verification challenge +200 +\d+ ms/);
    expect(run.stdout).toMatch(/✔ the same delivery again \(Okta's retry\) +204/);
    expect(run.stdout).toMatch(/✔ ID and access token +200 +\d+ ms {2}add \/claims\/department; add \/claims\/tenant/);
    expect(run.stdout).toContain("6 requests: 6 passed, 0 failed (0 errors, 0 warnings).");
    expect(run.stdout).toContain("Okta would accept every answer.");
    expect(run.stdout + run.stderr).not.toContain(E2E_EVENT_SECRET);
  });

  it("soaks with --load, bounded, and reports p50/p99 per scenario", async () => {
    const run = await runScript("simulate.ts", ["--url", gw.baseUrl, ...secrets, "--load", "60", "--concurrency", "4", "--duration", "60", "--format", "json"]);
    expect(run.code).toBe(0);
    const { load } = JSON.parse(run.stdout) as { load: { requests: number; failed: number; latency: { p50: number; p99: number }; byScenario: Record<string, { requests: number }> } };
    expect(load.requests).toBe(60);
    expect(load.failed).toBe(0);
    expect(load.latency.p99).toBeGreaterThanOrEqual(load.latency.p50);
    expect(Object.values(load.byScenario).map((s) => s.requests)).toEqual(Array(10).fill(6));
  });
});

describe("npm run simulate against a wrong answer", () => {
  let server: Server;
  let url: string;
  let answer: (path: string) => { status: number; body?: string; delayMs?: number };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const a = answer(req.url ?? "");
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(a.status, a.body === undefined ? {} : { "content-type": "application/json" });
          res.end(a.body);
        };
        if (a.delayMs) setTimeout(send, a.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function simulate(...args: string[]): Promise<Run> {
    return runScript("simulate.ts", ["--url", url, ...secrets, ...args]);
  }

  it("fails on a token hook answering a command the token hook does not have", async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ commands: [{ type: "com.okta.user.profile.update", value: { department: "x" } }] }) });
    const run = await simulate("token");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✖ ID and access token +200/);
    expect(run.stdout).toContain('✖ commands[0]: "com.okta.user.profile.update" is not a token hook command (allowed: com.okta.identity.patch, com.okta.access.patch)');
    expect(run.stdout).toContain("Okta would reject 3 answers: see ✖ above.");
  });

  it("fails on a reserved claim and on a patch of a token that was not requested", async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ commands: [{ type: "com.okta.identity.patch", value: [{ op: "replace", path: "/claims/sub", value: "someone-else" }] }] }) });
    const run = await simulate("token");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('claim "sub" is reserved by Okta and cannot be changed in an ID token');
    expect(run.stdout).toContain("com.okta.identity.patch patches the ID token, which was not requested; Okta rejects the patch");
    expect(run.stdout).not.toContain("someone-else");
  });

  it("fails on a 500, saying what Okta then does", async () => {
    answer = () => ({ status: 500, body: JSON.stringify({ error: "boom" }) });
    const run = await simulate("registration");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("✖ HTTP 500: Okta counts anything but 200 or 204 as a failed call, so the registration is denied");
  });

  it("fails on an answer slower than Okta's 3 s, and on one of 256 KB or more", async () => {
    answer = () => ({ status: 204, delayMs: 3_500 });
    const slow = await simulate("saml");
    expect(slow.code).toBe(1);
    expect(slow.stdout).toContain("✖ no answer within 3 s: Okta gives up (the assertion is sent unchanged)");
    answer = () => ({ status: 200, body: JSON.stringify({ debugContext: { padding: "x".repeat(300 * 1024) } }) });
    const large = await simulate("password-import");
    expect(large.code).toBe(1);
    expect(large.stdout).toContain("✖ the answer is more than 256 KB; Okta takes answers under 256 KB only, so the user cannot sign in");
  });

  it("fails on a delivery answered with a 4xx, and on a verification that does not echo the challenge", async () => {
    answer = (p) => (p.startsWith("/hooks/events") ? { status: 400, body: "{}" } : { status: 204 });
    const run = await simulate("verify", "retry");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("✖ HTTP 400: Okta never retries a 4xx, so these 3 events are lost");
    expect(run.stdout).toContain("✖ HTTP 400, Okta needs 200 with {\"verification\": …}: the hook stays unverified and receives no events");
  });

  it("stops with exit 2 and says where to put the secret when it has none", async () => {
    const run = await runScript("simulate.ts", ["--url", url, "--dev-vars", "/nonexistent/.dev.vars", "verify"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("simulate: no event hook secret: pass --event-secret, set EVENT_HOOK_SECRETS in the environment, or run `npm start` once to write .dev.vars");
  });
});
