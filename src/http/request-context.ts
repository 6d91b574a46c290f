/**
 * Request context: a request id, the parsed configuration, and the one structured log line per request.
 *
 * The log line is written after the response is decided, with the route pattern (not the raw URL), the status, the
 * duration and whatever fields the route added through `c.var.logFields` (events stored, duplicates, error code).
 * The id is returned as `x-request-id` so an operator can find the line from a response. Okta's own request id
 * (`x-okta-request-id`, sent on verification and inline hook calls) is logged beside it.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { getConfig } from "../config";
import { log, type LogLevel } from "../log";
import type { AppEnv } from "./types";
import { meteredEnv, newUsage, usageFields } from "../storage/d1";

/** The pattern of the handler that answered (e.g. "/hooks/events"), or the path when no route matched. */
function routePattern(c: Context<AppEnv>): string {
  const handler = matchedRoutes(c).findLast((r) => r.method !== "ALL");
  return handler?.path ?? new URL(c.req.url).pathname;
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function louder(a: LogLevel, b: LogLevel | undefined): LogLevel {
  return b !== undefined && LEVELS.indexOf(b) > LEVELS.indexOf(a) ? b : a;
}

export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  const requestId = crypto.randomUUID();
  // Every D1 failure below this point is a StorageError, and every statement's cost (as D1 reports it) is added to
  // this request's usage, for its log line (src/storage/d1.ts). The configuration is parsed once per isolate: it is
  // keyed on the isolate's env, not on this request's copy of it.
  const usage = newUsage();
  c.env = meteredEnv(c.env, usage);
  const { config, problems } = getConfig(c.env);
  c.set("requestId", requestId);
  c.set("receivedAt", started);
  c.set("config", config);
  c.set("configProblems", problems);
  c.set("logFields", {});
  try {
    await next();
  } finally {
    c.res.headers.set("x-request-id", requestId);
    const status = c.res.status;
    const byStatus: LogLevel = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
    log(louder(byStatus, c.var.logLevel), "request", {
      requestId,
      method: c.req.method,
      route: routePattern(c),
      status,
      ms: Date.now() - started,
      oktaRequestId: c.req.header("x-okta-request-id") ?? undefined,
      ...usageFields(usage),
      ...c.var.logFields,
    });
  }
});
