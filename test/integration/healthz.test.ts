/**
 * GET /healthz: the status for anyone; version, configuration problems (never secret values), D1 and disabled
 * destinations only with the admin token.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { ADMIN_HEADERS, clearForwarding, createDestination } from "../helpers/forwarding";
import { BASE, callWorker, failingDatabase } from "../helpers/worker";
import { TEST_ADMIN_TOKEN } from "../test-config";

/** With the admin token: the details. */
const get = () => new Request(`${BASE}/healthz`, { headers: ADMIN_HEADERS });
/** As a load balancer or a stranger asks: no credentials. */
const anonymous = () => new Request(`${BASE}/healthz`);

beforeEach(clearForwarding);

describe("GET /healthz without credentials: the status and nothing else", () => {
  it("answers ok with the status alone", async () => {
    const res = await callWorker(anonymous());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("says degraded but discloses no destination id, name, reason or configuration problem", async () => {
    const d = await createDestination({ name: "payroll-sync-internal" });
    await env.DB.prepare("UPDATE destinations SET state = 'disabled', disabled_reason = 'secret-reason-text' WHERE id = ?1").bind(d.id).run();
    const res = await callWorker(anonymous(), { MAX_BODY_BYTES: "lots" });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: "degraded" });
    for (const leak of [d.id, "payroll-sync-internal", "secret-reason-text", "MAX_BODY_BYTES", pkg.version]) expect(text).not.toContain(leak);
    // The same request with the token shows what is wrong.
    const detailed = (await (await callWorker(get())).json()) as { disabledDestinations: Array<{ id: string }> };
    expect(detailed.disabledDestinations.map((x) => x.id)).toEqual([d.id]);
  });

  it("answers down with 503 when D1 does not answer", async () => {
    const res = await callWorker(anonymous(), { DB: failingDatabase() });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "down" });
  });

  it("a wrong token is a 401 in the admin API's format, not a silent short answer", async () => {
    const res = await callWorker(new Request(`${BASE}/healthz`, { headers: { authorization: "Bearer wrong-token" } }));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    const malformed = await callWorker(new Request(`${BASE}/healthz`, { headers: { authorization: "Basic abc" } }));
    expect(malformed.status).toBe(401);
  });

  it("a token when ADMIN_TOKEN is not set is refused (503 not_configured), never answered with details", async () => {
    const res = await callWorker(get(), { ADMIN_TOKEN: "" });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "not_configured" } });
    expect(text).not.toContain("problems");
  });
});


describe("GET /healthz with the admin token: the details", () => {
  it("is ok with D1 reachable and configuration complete", async () => {
    const res = await callWorker(get());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      status: "ok",
      version: pkg.version,
      problems: [],
      d1: { reachable: true, ms: expect.any(Number), sizeBytes: expect.any(Number), limitBytes: 10_000_000_000, usedPercent: expect.any(Number) },
      disabledDestinations: [],
      backlog: {
        lateAfterMinutes: 15,
        countLimit: 10_000,
        outbox: { batches: 0, oldestAt: null, oldestAgeSeconds: null },
        deliveries: { retrying: 0, overdue: 0, waiting: 0, oldestOverdueSince: null, oldestOverdueSeconds: null },
      },
      deadLetters: { lastHour: 0 },
      alerts: { destinationId: null, destination: null, cooldownMinutes: 60, recent: [] },
    });
  });

  it("is degraded and names the problems, never the values, when configuration is incomplete", async () => {
    const res = await callWorker(get(), { EVENT_HOOK_SECRETS: "", MAX_BODY_BYTES: "lots", EVENT_HOOK_AUTH_HEADER: "bad header" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; problems: string[] };
    expect(body.status).toBe("degraded");
    expect(body.problems).toEqual([
      "EVENT_HOOK_SECRETS is not set: /hooks/events refuses every call with 503",
      'EVENT_HOOK_AUTH_HEADER is not a valid HTTP header name; using "authorization"',
      "MAX_BODY_BYTES must be an integer between 1024 and 8388608; using 1048576",
    ]);
  });

  it("never shows a secret value", async () => {
    const res = await callWorker(get(), { EVENT_HOOK_SECRETS: "s3cr3t-value", ADMIN_TOKEN: `${TEST_ADMIN_TOKEN},adm1n-value`, MAX_BODY_BYTES: "s3cr3t-value" });
    const text = await res.text();
    expect(text).not.toContain("adm1n-value");
    expect(text).not.toContain("s3cr3t-value");
  });

  it("is degraded, not down, when D1 answers but the migrations were not applied", async () => {
    const real = env.DB;
    const unmigrated = new Proxy(real, {
      get(target, prop) {
        if (prop === "batch") return () => Promise.reject(new Error("D1_ERROR: no such table: destinations"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await callWorker(get(), { DB: unmigrated });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; problems: string[]; d1: { reachable: boolean } };
    expect(body.status).toBe("degraded");
    expect(body.d1.reachable).toBe(true);
    expect(body.problems).toContain(
      "D1 answers but the gateway's tables cannot be read: apply the migrations (wrangler d1 migrations apply DB)",
    );
  });

  it("is down with 503 when D1 does not answer", async () => {
    const res = await callWorker(get(), { DB: failingDatabase() });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "down", d1: { reachable: false } });
  });
});
