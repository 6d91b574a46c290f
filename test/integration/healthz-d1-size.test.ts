/**
 * D1's size against its limit in the authenticated part of /healthz: reported from the ping's own result, and a
 * database near its limit makes the gateway "degraded" with a problem naming the remedy. Anonymous callers never see it.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { D1_SIZE_WARN_PERCENT } from "../../src/http/health";
import { request } from "../helpers/gateway";

interface Health {
  status: string;
  problems: string[];
  d1: { reachable: boolean; sizeBytes: number | null; limitBytes: number; usedPercent: number | null };
}

describe("/healthz shows D1's size against D1_SIZE_LIMIT_MB", () => {
  // A megabyte of ballast (this file's own database): the test database then fills most of a 1 MB limit.
  beforeAll(async () => {
    await env.DB.exec("CREATE TABLE test_ballast (b BLOB)");
    await env.DB.prepare("INSERT INTO test_ballast VALUES (randomblob(900000))").run();
  });

  it("reports the database's bytes (D1's meta.size_after) against the 10 GB default", async () => {
    const res = await request("/healthz", { as: "admin" });
    const body = (await res.json()) as Health;
    expect(body.status).toBe("ok");
    expect(body.d1.sizeBytes).toBeGreaterThan(4096);
    expect(body.d1.limitBytes).toBe(10_000_000_000);
    expect(body.d1.usedPercent).toBe(Math.round((body.d1.sizeBytes! / 10_000_000_000) * 1000) / 10);
  });

  it(`is degraded from ${D1_SIZE_WARN_PERCENT} % of the limit on, with a problem that names the variable and the remedy`, async () => {
    const res = await request("/healthz", { as: "admin", env: { D1_SIZE_LIMIT_MB: "1" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Health;
    expect(body.d1.limitBytes).toBe(1_000_000);
    expect(body.d1.usedPercent).toBeGreaterThanOrEqual(D1_SIZE_WARN_PERCENT);
    expect(body.status).toBe("degraded");
    expect(body.problems).toContainEqual(expect.stringMatching(/^D1 holds [\d.]+ % of its 1 MB limit \(D1_SIZE_LIMIT_MB\).*RETENTION_EVENT_DAYS/));
  });

  it("is not degraded below the threshold", async () => {
    const res = await request("/healthz", { as: "admin", env: { D1_SIZE_LIMIT_MB: "100000" } });
    const body = (await res.json()) as Health;
    expect(body.status).toBe("ok");
    expect(body.problems).toEqual([]);
  });

  it("says nothing of the size without the admin token, only the status", async () => {
    const res = await request("/healthz", { env: { D1_SIZE_LIMIT_MB: "1" } });
    expect(await res.json()).toEqual({ status: "degraded" });
  });
});
