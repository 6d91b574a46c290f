/**
 * Admin authentication: `Authorization: Bearer <token>` against ADMIN_TOKEN (comma-separated, so a token can be
 * rotated without downtime). No token configured → 503 (never open by accident); missing or wrong → 401 with
 * WWW-Authenticate. Constant-time comparison, shared with the hook secrets.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../../errors";
import { matchesAnySecret } from "../header-secret";
import type { AppEnv } from "../types";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export const requireAdmin = createMiddleware<AppEnv>(async function requireAdmin(c, next) {
  const tokens = c.var.config.adminTokens;
  if (tokens.length === 0) {
    c.var.logFields.problem = "ADMIN_TOKEN is not set";
    throw new ApiError("not_configured", "The admin API is not configured: set ADMIN_TOKEN.");
  }
  const presented = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
  if (presented === undefined || !(await matchesAnySecret(presented, tokens))) {
    c.var.logFields.auth = presented === undefined ? "missing" : "mismatch";
    throw new ApiError("unauthorized", "Missing or invalid admin token.", {
      "www-authenticate": 'Bearer realm="okta-hooks-edge admin"',
    });
  }
  await next();
});
