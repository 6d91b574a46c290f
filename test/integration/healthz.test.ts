/** GET /healthz (PRODUCT §1): status, version, configuration problems without secret values, D1 reachable. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { BASE, callWorker, failingDatabase } from "../helpers/worker";

const get = () => new Request(`${BASE}/healthz`);

describe("GET /healthz", () => {
  it("is ok with D1 reachable and configuration complete", async () => {
    const res = await callWorker(get());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      status: "ok",
      version: pkg.version,
      problems: [],
      d1: { reachable: true, ms: expect.any(Number) },
      disabledDestinations: [],
    });
  });

  it("is degraded and names the problems, never the values, when configuration is incomplete", async () => {
    const res = await callWorker(get(), { EVENT_HOOK_SECRETS: "", ADMIN_TOKEN: "", MAX_BODY_BYTES: "lots", EVENT_HOOK_AUTH_HEADER: "bad header" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; problems: string[] };
    expect(body.status).toBe("degraded");
    expect(body.problems).toEqual([
      "EVENT_HOOK_SECRETS is not set: /hooks/events refuses every call with 503",
      "ADMIN_TOKEN is not set: /admin refuses every call with 503",
      'EVENT_HOOK_AUTH_HEADER is not a valid HTTP header name; using "authorization"',
      "MAX_BODY_BYTES must be an integer between 1024 and 8388608; using 1048576",
    ]);
  });

  it("never shows a secret value", async () => {
    const res = await callWorker(get(), { EVENT_HOOK_SECRETS: "s3cr3t-value", ADMIN_TOKEN: "adm1n-value", MAX_BODY_BYTES: "s3cr3t-value" });
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
      "D1 answers but the destinations table cannot be read: apply the migrations (wrangler d1 migrations apply DB)",
    );
  });

  it("is down with 503 when D1 does not answer", async () => {
    const res = await callWorker(get(), { DB: failingDatabase() });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "down", d1: { reachable: false } });
  });
});
