/**
 * Configuration: the raw strings of Env turned into a typed Config, plus the list of problems an operator must
 * fix. Parsing never throws: a route whose configuration is missing refuses with 503 (it never runs open by
 * accident), /healthz lists the problems, and the request log line of a refused call names the problem.
 *
 * Every tunable and constant of the gateway is here, documented.
 */
import * as z from "zod";
import type { Env } from "./env";

/** Default header Okta sends the shared secret in (Okta's channel.config.authScheme.key). */
export const DEFAULT_AUTH_HEADER = "authorization";
/**
 * Default largest body on hook routes. Okta documents no maximum batch size (CONTRACT §1.3); a 500-event batch of
 * typical System Log events is ~700 KB, so 1 MiB leaves room while keeping D1 writes and isolate memory bounded.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Hard ceiling for MAX_BODY_BYTES: Workers' request limit is far higher, D1's largest bound value is 2 MB. */
export const MAX_BODY_BYTES_CEILING = 8 * 1024 * 1024;

// ---- Forwarding (PRODUCT 2B; docs/forwarding.md) ----------------------------------------------------------------
/**
 * Default first retry delay of a forwarded delivery, in seconds; later delays grow ×3 up to Queues' 12 h ceiling
 * (src/queue/backoff.ts). Tests set FORWARD_RETRY_BASE_SECONDS=1 so retries happen within seconds.
 */
export const DEFAULT_FORWARD_RETRY_BASE_SECONDS = 5;
export const MAX_FORWARD_RETRY_BASE_SECONDS = 600;
/**
 * Default run of consecutive failed attempts after which a destination is disabled. 100 is Outpost's alert
 * threshold; with our schedule it is ~8 deliveries failing through their whole two-day schedule, or a burst of 100
 * events to a dead endpoint — long enough not to trip on a short outage, short enough not to retry a dead URL forever.
 */
export const DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES = 100;

const list = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const headerName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, "must be an HTTP header name");

export interface Config {
  eventHook: { header: string; secrets: string[] };
  inlineHook: { header: string; secrets: string[] };
  adminTokens: string[];
  maxBodyBytes: number;
  /** Actors whose events are stored but never forwarded (loop guard). */
  ignoreActorIds: Set<string>;
  /** Allow http:// and private-network destinations (local development only). */
  allowInsecureDestinations: boolean;
  forwarding: {
    /** First retry delay in seconds (FORWARD_RETRY_BASE_SECONDS). */
    retryBaseSeconds: number;
    /** Consecutive failed attempts that disable a destination (DESTINATION_DISABLE_AFTER_FAILURES). */
    disableAfterFailures: number;
  };
}

export interface ConfigResult {
  config: Config;
  /** Human-readable configuration problems; never contain secret values. */
  problems: string[];
}

function parseHeaderName(name: string, raw: string | undefined, problems: string[]): string {
  if (raw === undefined || raw.trim() === "") return DEFAULT_AUTH_HEADER;
  const parsed = headerName.safeParse(raw);
  if (parsed.success) return parsed.data;
  problems.push(`${name} is not a valid HTTP header name; using "${DEFAULT_AUTH_HEADER}"`);
  return DEFAULT_AUTH_HEADER;
}

function parseMaxBody(raw: string | undefined, problems: string[]): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_MAX_BODY_BYTES;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1024 && n <= MAX_BODY_BYTES_CEILING) return n;
  problems.push(
    `MAX_BODY_BYTES must be an integer between 1024 and ${MAX_BODY_BYTES_CEILING}; using ${DEFAULT_MAX_BODY_BYTES}`,
  );
  return DEFAULT_MAX_BODY_BYTES;
}

function parseBool(name: string, raw: string | undefined, problems: string[]): boolean {
  if (raw === undefined || raw.trim() === "") return false;
  const v = raw.trim().toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  problems.push(`${name} must be "true" or "false"; using false`);
  return false;
}

function parseIntInRange(
  name: string,
  raw: string | undefined,
  range: { min: number; max: number; fallback: number },
  problems: string[],
): number {
  if (raw === undefined || raw.trim() === "") return range.fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= range.min && n <= range.max) return n;
  problems.push(`${name} must be an integer between ${range.min} and ${range.max}; using ${range.fallback}`);
  return range.fallback;
}

export function parseConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const eventSecrets = list(env.EVENT_HOOK_SECRETS);
  const inlineSecrets = list(env.INLINE_HOOK_SECRETS);
  const adminTokens = list(env.ADMIN_TOKEN);
  if (eventSecrets.length === 0) {
    problems.push("EVENT_HOOK_SECRETS is not set: /hooks/events refuses every call with 503");
  }
  if (adminTokens.length === 0) {
    problems.push("ADMIN_TOKEN is not set: /admin refuses every call with 503");
  }
  const config: Config = {
    eventHook: {
      header: parseHeaderName("EVENT_HOOK_AUTH_HEADER", env.EVENT_HOOK_AUTH_HEADER, problems),
      secrets: eventSecrets,
    },
    inlineHook: {
      header: parseHeaderName("INLINE_HOOK_AUTH_HEADER", env.INLINE_HOOK_AUTH_HEADER, problems),
      secrets: inlineSecrets,
    },
    adminTokens,
    maxBodyBytes: parseMaxBody(env.MAX_BODY_BYTES, problems),
    ignoreActorIds: new Set(list(env.IGNORE_ACTOR_IDS)),
    allowInsecureDestinations: parseBool("ALLOW_INSECURE_DESTINATIONS", env.ALLOW_INSECURE_DESTINATIONS, problems),
    forwarding: {
      retryBaseSeconds: parseIntInRange(
        "FORWARD_RETRY_BASE_SECONDS",
        env.FORWARD_RETRY_BASE_SECONDS,
        { min: 1, max: MAX_FORWARD_RETRY_BASE_SECONDS, fallback: DEFAULT_FORWARD_RETRY_BASE_SECONDS },
        problems,
      ),
      disableAfterFailures: parseIntInRange(
        "DESTINATION_DISABLE_AFTER_FAILURES",
        env.DESTINATION_DISABLE_AFTER_FAILURES,
        { min: 1, max: 100_000, fallback: DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES },
        problems,
      ),
    },
  };
  return { config, problems };
}

// One parse per env object: the env of an isolate is stable, so the hot path does no parsing.
const cache = new WeakMap<Env, ConfigResult>();

export function getConfig(env: Env): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env);
    cache.set(env, result);
  }
  return result;
}
