/** The Hono environment every route shares: bindings, plus what the request-context middleware sets. */
import type { Config } from "../config";
import type { Env } from "../env";
import type { LogFields, LogLevel } from "../log";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** Date.now() when the request arrived: deadlines (inline hooks) count from here. */
    receivedAt: number;
    config: Config;
    configProblems: string[];
    /** Fields a route adds to the request's one log line (counts, ids; never secrets or payloads). */
    logFields: LogFields;
    /**
     * Raised by a route when a request succeeded but something an operator should see went wrong (e.g. the
     * forward queue refused events that were stored). The line is never quieter than its status implies.
     */
    logLevel?: LogLevel;
  };
}
