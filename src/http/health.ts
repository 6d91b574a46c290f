/**
 * GET /healthz (PRODUCT §1): status, version, configuration problems (never secret values), D1 reachable.
 * 200 while the gateway can store events (status "ok", or "degraded" when configuration needs attention);
 * 503 with status "down" when D1 does not answer, so an uptime check notices what Okta would.
 */
import { Hono } from "hono";
import pkg from "../../package.json";
import { describeError, log } from "../log";
import { pingDatabase } from "../storage/events";
import type { AppEnv } from "./types";

export const VERSION: string = pkg.version;

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/", async (c) => {
  const started = Date.now();
  let d1: { reachable: boolean; ms: number };
  try {
    await pingDatabase(c.env.DB);
    d1 = { reachable: true, ms: Date.now() - started };
  } catch (error) {
    log("error", "healthz: D1 unreachable", { requestId: c.var.requestId, error: describeError(error) });
    d1 = { reachable: false, ms: Date.now() - started };
  }
  const problems = c.var.configProblems;
  const status = !d1.reachable ? "down" : problems.length > 0 ? "degraded" : "ok";
  return c.json({ status, version: VERSION, problems, d1 }, d1.reachable ? 200 : 503, {
    "cache-control": "no-store",
  });
});
