/**
 * GET /healthz: 200 while the gateway can store events (status "ok", or "degraded" when something needs attention);
 * 503 with status "down" when D1 does not answer, so an uptime check notices what Okta would.
 *
 * Anyone gets the status alone (`{"status":"ok"}`: all a load balancer or uptime check needs). The details
 * describe the deployment to whoever reads them, so they are shown only with the admin token
 * (`Authorization: Bearer <ADMIN_TOKEN>`, checked exactly as the admin API checks it: a wrong token is a 401, not a
 * silent fallback to the short answer): version, configuration problems (names, never secret values), D1 (round
 * trip, size against D1_SIZE_LIMIT_MB), disabled destinations with reason and since when, the forwarding backlog
 * (its oldest items and counts), dead letters of the last hour, and the alerts (./health-view.ts builds the answer
 * and holds the rules of the status, docs/operations.md "Health").
 *
 * One D1 round trip whatever the caller: one db.batch of bounded statements (each says what it reads:
 * src/storage/health.ts, src/storage/alerts.ts). The status needs only reads of a few rows each — the ping, the
 * disabled destinations, the backlog's oldest items, the newest alerts — so an uptime check polling anonymously
 * costs a few rows; the counts and the dead letters are read for the admin token's answer only. D1 reachable but
 * the schema not migrated is "degraded" with a problem naming the fix, not "down".
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import pkg from "../../package.json";
import { describeError, log } from "../log";
import { requireAdmin } from "./admin/auth";
import { allRows, firstRow } from "../storage/d1";
import { sizeAfter } from "../storage/stats-d1-size";
import { d1SizeView } from "./admin/stats";
import { disabledDestinationsStatement, type DisabledDestinationSummary } from "../storage/destinations";
import { recentAlertsStatement, type RecentAlertRow } from "../storage/alerts";
import {
  backlogCountsStatement,
  backlogOldestStatement,
  deadLettersSinceStatement,
  readBacklogCounts,
  readBacklogOldest,
} from "../storage/health";
import { healthAnswer, type HealthReads } from "./health-view";
import type { AppEnv } from "./types";

export const VERSION: string = pkg.version;
/** From this share of D1_SIZE_LIMIT_MB on, /healthz is "degraded" with a problem naming the remedy. */
export const D1_SIZE_WARN_PERCENT = 80;
/** Disabled destinations listed (all of them count for the status). */
export const DISABLED_DESTINATIONS_SHOWN = 20;
/** Newest alerts listed, and looked at for one that could not be delivered. */
export const RECENT_ALERTS_SHOWN = 10;
/** Counts stop here: a count equal to it means at least that many (rows read stay bounded). */
export const HEALTH_COUNT_LIMIT = 10_000;
const HOUR_MS = 3_600_000;

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
  const details = c.get("healthDetails") === true;
  const { config } = c.var;
  const db = c.env.DB;
  const alertDestinationId = config.alerts.destinationId;
  const statements = [
    db.prepare("SELECT 1"),
    disabledDestinationsStatement(db, DISABLED_DESTINATIONS_SHOWN),
    backlogOldestStatement(db, started),
    recentAlertsStatement(db, RECENT_ALERTS_SHOWN),
    db.prepare("SELECT id, name, state FROM destinations WHERE id = ?1").bind(alertDestinationId),
    ...(details
      ? [backlogCountsStatement(db, started, HEALTH_COUNT_LIMIT), deadLettersSinceStatement(db, started - HOUR_MS, HEALTH_COUNT_LIMIT)]
      : []),
  ];
  let reads: HealthReads | null = null;
  let d1: { reachable: boolean; ms: number };
  let storageProblem: string | undefined;
  try {
    const [ping, disabled, oldest, alerts, alertDestination, counts, deadLetters] = await db.batch(statements);
    reads = {
      sizeBytes: sizeAfter(ping),
      disabledDestinations: allRows<DisabledDestinationSummary>(disabled),
      backlogOldest: readBacklogOldest(oldest),
      recentAlerts: allRows<RecentAlertRow>(alerts),
      alertDestination: firstRow<{ id: string; name: string; state: string }>(alertDestination) ?? null,
      counts: counts ? readBacklogCounts(counts) : null,
      deadLettersLastHour: deadLetters ? (firstRow<{ n: number }>(deadLetters)?.n ?? 0) : null,
    };
    d1 = { reachable: true, ms: Date.now() - started };
  } catch (error) {
    // Unreachable, or reachable but missing the gateway's tables (migrations not applied)? Only this failure
    // path pays a second round trip to tell them apart.
    try {
      await db.prepare("SELECT 1").first();
      d1 = { reachable: true, ms: Date.now() - started };
      storageProblem = "D1 answers but the gateway's tables cannot be read: apply the migrations (wrangler d1 migrations apply DB)";
      log("error", "healthz: storage schema problem", { requestId: c.var.requestId, error: describeError(error) });
    } catch {
      log("error", "healthz: D1 unreachable", { requestId: c.var.requestId, error: describeError(error) });
      d1 = { reachable: false, ms: Date.now() - started };
    }
  }
  const answer = healthAnswer({
    now: started,
    config,
    configProblems: [...c.var.configProblems, ...(storageProblem ? [storageProblem] : [])],
    d1,
    size: d1SizeView(reads?.sizeBytes ?? null, config.d1SizeLimitBytes),
    sizeWarnPercent: D1_SIZE_WARN_PERCENT,
    reads,
    countLimit: HEALTH_COUNT_LIMIT,
  });
  const { status, ...rest } = answer;
  const body = details ? { status, version: VERSION, ...rest } : { status };
  return c.json(body, d1.reachable ? 200 : 503, { "cache-control": "no-store" });
});
