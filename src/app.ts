/**
 * The HTTP application: request context first, then each area's routes, then the one error handler and the
 * one 404. Route modules own their paths below their mount point.
 *
 * `createApp` exists so tests can build the same application with their own inline hook handlers; the Worker uses
 * `app`, built with the handlers registered in src/handlers/index.ts.
 */
import { Hono } from "hono";
import { ApiError, errorBody } from "./errors";
import type { InlineHookHandlers } from "./handlers/types";
import { describeError, log } from "./log";
import { adminApiRoutes } from "./http/admin";
import { dashboardRoutes } from "./http/dashboard";
import { healthRoutes } from "./http/health";
import { eventHookRoutes } from "./http/hooks/events";
import { createInlineHookRoutes } from "./http/hooks/inline";
import { requestContext } from "./http/request-context";
import { defaultSecurityHeaders } from "./http/security-headers";
import type { AppEnv } from "./http/types";
import { StorageError } from "./storage/d1";

export interface AppOptions {
  /** Inline hook handlers; defaults to the registry in src/handlers/index.ts. */
  inlineHookHandlers?: InlineHookHandlers;
}

export function createApp(options: AppOptions = {}) {
  const app = new Hono<AppEnv>();

  app.use(requestContext);
  app.use(defaultSecurityHeaders);

  app.route("/healthz", healthRoutes);
  app.route("/hooks/events", eventHookRoutes);
  app.route("/hooks/inline", createInlineHookRoutes(options.inlineHookHandlers));
  app.route("/admin/api", adminApiRoutes);
  app.route("/", dashboardRoutes);

  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      c.var.logFields.error = err.code;
      return c.json(errorBody(err.code, err.message), err.status, err.headers);
    }
    if (err instanceof StorageError) {
      // D1 is down or overloaded: not the caller's fault, and worth retrying.
      c.var.logFields.error = "storage_unavailable";
      c.var.logFields.storageError = describeError(err);
      return c.json(errorBody("storage_unavailable", "Storage is unavailable; try again."), 503);
    }
    // A bug, not bad input: log it in full, answer with no detail.
    c.var.logFields.error = "internal";
    log("error", "unhandled error", { requestId: c.var.requestId, error: describeError(err) });
    return c.json(errorBody("internal", "Internal error; the request id identifies it in the logs."), 500);
  });

  return app;
}

export const app = createApp();
