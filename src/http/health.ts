/**
 * GET /healthz: 200 while the gateway can store events (status "ok", or "degraded" when something needs attention);
 * 503 with status "down" when D1 does not answer, so an uptime check notices what Okta would.
 *
 * Anyone gets the status alone (`{"status":"ok"}`: all a load balancer or uptime check needs). The details —
 * version, configuration problems (names, never secret values), D1 round trip, disabled destinations with their
 * names and reasons — describe the deployment to whoever reads them, so they are shown only with the admin token
 * (`Authorization: Bearer <ADMIN_TOKEN>`, checked exactly as the admin API checks it: a wrong token is a 401, not a
 * silent fallback to the short answer).
 *
 * `disabledDestinations` lists destinations the gateway disabled after a run of failures (or an operator did);
 * any makes the status "degraded". It is read in the same D1 round trip as the ping. D1 reachable but the schema
 * not migrated is "degraded" with a problem naming the fix, not "down".
 *
 * `d1` also says how large the database is against D1_SIZE_LIMIT_MB: D1 reports the size with every result
 * (meta.size_after), so the ping learns it for free. From D1_SIZE_WARN_PERCENT on, a problem says so and the
 * status is "degraded": ingest fails once the database is full, and retention (docs/operations.md) is the remedy.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import pkg from "../../package.json";
import { describeError, log } from "../log";
import { requireAdmin } from "./admin/auth";
import { allRows } from "../storage/d1";
import { sizeAfter } from "../storage/stats-d1-size";
import { d1SizeView } from "./admin/stats";
import { disabledDestinationsStatement, type DisabledDestinationSummary } from "../storage/destinations";
import type { AppEnv } from "./types";

export const VERSION: string = pkg.version;
/** From this share of D1_SIZE_LIMIT_MB on, /healthz is "degraded" with a problem naming the remedy. */
export const D1_SIZE_WARN_PERCENT = 80;

/** `healthDetails` is set once the admin token checked out. */
type HealthEnv = AppEnv & { Variables: { healthDetails?: boolean } };

export const healthRoutes = new Hono<HealthEnv>();

/** With an Authorization header, the admin check runs (and may answer 401/503); without one, the short answer. */
const adminWhenPresented = createMiddleware<HealthEnv>(async (c, next) => {
  if (c.req.header("authorization") === undefined) return next();
  await requireAdmin(c, async () => {
    c.set("healthDetails", true);
    await next();
  });
});

healthRoutes.get("/", adminWhenPresented, async (c) => {
  const started = Date.now();
  let d1: { reachable: boolean; ms: number };
  let sizeBytes: number | null = null;
  let disabledDestinations: DisabledDestinationSummary[] = [];
  let storageProblem: string | undefined;
  try {
    const [ping, disabled] = await c.env.DB.batch([
      c.env.DB.prepare("SELECT 1"),
      disabledDestinationsStatement(c.env.DB, 20),
    ]);
    disabledDestinations = allRows<DisabledDestinationSummary>(disabled);
    sizeBytes = sizeAfter(ping);
    d1 = { reachable: true, ms: Date.now() - started };
  } catch (error) {
    // Unreachable, or reachable but missing the forwarding tables (migrations not applied)? Only this failure
    // path pays a second round trip to tell them apart.
    try {
      await c.env.DB.prepare("SELECT 1").first();
      d1 = { reachable: true, ms: Date.now() - started };
      storageProblem = "D1 answers but the destinations table cannot be read: apply the migrations (wrangler d1 migrations apply DB)";
      log("error", "healthz: storage schema problem", { requestId: c.var.requestId, error: describeError(error) });
    } catch {
      log("error", "healthz: D1 unreachable", { requestId: c.var.requestId, error: describeError(error) });
      d1 = { reachable: false, ms: Date.now() - started };
    }
  }
  const size = d1SizeView(sizeBytes, c.var.config.d1SizeLimitBytes);
  const problems = [...c.var.configProblems, ...(storageProblem ? [storageProblem] : [])];
  if (size.usedPercent !== null && size.usedPercent >= D1_SIZE_WARN_PERCENT) {
    problems.push(
      `D1 holds ${size.usedPercent} % of its ${size.limitBytes / 1e6} MB limit (D1_SIZE_LIMIT_MB): ingest fails when it is full; ` +
        "lower RETENTION_EVENT_DAYS (docs/operations.md, Retention)",
    );
  }
  const status = !d1.reachable ? "down" : problems.length > 0 || disabledDestinations.length > 0 ? "degraded" : "ok";
  const body = c.get("healthDetails") === true ? { status, version: VERSION, problems, d1: { ...d1, ...size }, disabledDestinations } : { status };
  return c.json(body, d1.reachable ? 200 : 503, { "cache-control": "no-store" });
});
