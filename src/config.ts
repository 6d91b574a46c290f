/**
 * Configuration: the raw strings of Env turned into a typed Config, plus the list of problems an operator must
 * fix. Parsing never throws: a route whose configuration is missing refuses with 503 (it never runs open by
 * accident), /healthz lists the problems, and the request log line of a refused call names the problem.
 *
 * The operator-facing settings and their defaults and bounds are here; constants that are not configuration
 * (retry schedule, sweep sizes, timeouts) live beside the code they govern, documented there.
 */
import * as z from "zod";
import type { Env } from "./env";
import { fromBase64Any } from "./crypto/base64";
import { KEY_BYTES } from "./crypto/secret-box";
import { INLINE_HOOK_TYPES, type InlineHookType } from "./okta/inline/common";
import type { FallbackMode } from "./okta/inline/outcomes";

/** Default header Okta sends the shared secret in (Okta's channel.config.authScheme.key). */
export const DEFAULT_AUTH_HEADER = "authorization";
/**
 * Default largest body on hook routes. Okta documents no maximum batch size
 * (https://developer.okta.com/docs/concepts/event-hooks/); a 500-event batch of
 * typical System Log events is ~700 KB, so 1 MiB leaves room while keeping D1 writes and isolate memory bounded.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Hard ceiling for MAX_BODY_BYTES: Workers' request limit is far higher, D1's largest bound value is 2 MB. */
export const MAX_BODY_BYTES_CEILING = 8 * 1024 * 1024;

// ---- Forwarding (docs/forwarding.md) ----------------------------------------------------------------------------
/**
 * Default first retry delay of a forwarded delivery, in seconds; later delays grow ×3 up to Queues' 12 h ceiling
 * (src/forwarding/backoff.ts). Tests set FORWARD_RETRY_BASE_SECONDS=1 so retries happen within seconds.
 */
export const DEFAULT_FORWARD_RETRY_BASE_SECONDS = 5;
export const MAX_FORWARD_RETRY_BASE_SECONDS = 600;
/**
 * How long an isolate gathers the batches it stores before sending them as one forward queue message
 * (src/queue/enqueue-buffer.ts); 100 are sent at once. Each message costs three billed Queues operations, so
 * one-event deliveries sent one message each cost three per event. 0 sends on the next timer tick (joining only the
 * requests in flight then). Longer means fewer messages and a later first attempt; Okta has its answer either way.
 */
export const DEFAULT_FORWARD_ENQUEUE_WINDOW_MS = 500;
export const MAX_FORWARD_ENQUEUE_WINDOW_MS = 5000;
/**
 * Default run of consecutive failed attempts after which a destination is disabled. 100 is Outpost's alert
 * threshold; with our schedule it is ~8 deliveries failing through their whole two-day schedule, or a burst of 100
 * events to a dead endpoint — long enough not to trip on a short outage, short enough not to retry a dead URL forever.
 */
export const DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES = 100;
/**
 * Minutes a run of failures must have lasted before it disables a destination: a receiver's blip during a burst of
 * deliveries can fail a hundred attempts in seconds, which is not the "long run of failures" auto-disable is for.
 */
export const DEFAULT_DESTINATION_DISABLE_AFTER_MINUTES = 60;

// ---- Retention and D1 size (docs/operations.md "Retention") -----------------------------------------------------
/**
 * Default ages, in days, after which the retention job (src/jobs/retention.ts) purges what the gateway keeps; 0
 * keeps it forever. Events: 30 days of an org at Okta's maximum (400,000 a day) fit D1's 10 GB at the ~800 bytes
 * per event the storage aims for; longer history belongs in the R2 archive. Inline hook calls are an audit trail of
 * seconds-long decisions: a week. The events-received rollup is one row per hour: 400 days allow a year-over-year
 * comparison.
 */
export const DEFAULT_RETENTION_DAYS = { events: 30, deadLetters: 30, inlineCalls: 7, stats: 400 } as const;
export const MAX_RETENTION_DAYS = 3650;
/**
 * D1's largest database, in MB: 10 GB on Workers Paid, 500 MB on Free
 * (https://developers.cloudflare.com/d1/platform/limits/). Counted in decimal megabytes, so the gateway warns a
 * little early rather than late. Ingest fails once the database is full.
 */
export const DEFAULT_D1_SIZE_LIMIT_MB = 10_000;

// ---- Health and alerts (docs/operations.md "Health" and "Alerts") -----------------------------------------------
/**
 * The backlog is late when the oldest batch not fanned out, or the oldest delivery past its scheduled attempt, is
 * older than this many minutes: /healthz is "degraded" and the cron raises a backlog alert. A healthy gateway fans a
 * batch out within seconds and sends a due retry at once; the outbox sweep re-sends lost batches after 30 minutes and
 * lost deliveries after 10, so 15 minutes late means the queue is not being consumed (or the sweep cannot keep up).
 */
export const DEFAULT_ALERT_BACKLOG_MINUTES = 15;
export const MAX_ALERT_BACKLOG_MINUTES = 1440;
/**
 * An alert of the same kind about the same subject (a destination, the backlog) is raised at most once per this
 * many minutes: a backlog that stays late is a reminder an hour, not a message per cron run.
 */
export const DEFAULT_ALERT_COOLDOWN_MINUTES = 60;
export const MAX_ALERT_COOLDOWN_MINUTES = 10_080;
/** A destination id as src/storage/destinations.ts newDestinationId makes them (that module is a layer above). */
const DESTINATION_ID_FORMAT = /^dst_[0-9a-f]{20}$/;

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
  inlineHook: InlineHookConfig;
  adminTokens: string[];
  maxBodyBytes: number;
  /** Actors whose events are stored but never forwarded (loop guard). */
  ignoreActorIds: Set<string>;
  /** Allow http:// and private-network destinations (local development only). */
  allowInsecureDestinations: boolean;
  forwarding: {
    /** First retry delay in seconds (FORWARD_RETRY_BASE_SECONDS). */
    retryBaseSeconds: number;
    /** The producer buffer's longest wait before it sends the batches it gathered, in ms (FORWARD_ENQUEUE_WINDOW_MS). */
    enqueueWindowMs: number;
    /** Consecutive failed attempts that disable a destination (DESTINATION_DISABLE_AFTER_FAILURES). */
    disableAfterFailures: number;
    /** …once the first of them is this old, in ms (DESTINATION_DISABLE_AFTER_MINUTES; 0: the count alone). */
    disableAfterMs: number;
  };
  /**
   * SECRETS_ENCRYPTION_KEY: raw AES-256 keys sealing destination secrets at rest (src/crypto/secret-box.ts); the
   * first seals, all open. Empty when unset or malformed: destinations cannot be created and forwarding cannot sign.
   */
  secretKeys: readonly Uint8Array[];
  /** Ages in days after which the retention job purges; 0 = keep forever (RETENTION_*_DAYS). */
  retention: { eventDays: number; deadLetterDays: number; inlineCallDays: number; statsDays: number };
  /** D1's size limit for this account's plan, in bytes (D1_SIZE_LIMIT_MB): /healthz and stats compare the size to it. */
  d1SizeLimitBytes: number;
  alerts: AlertConfig;
}

export interface AlertConfig {
  /** The destination that receives `gateway.alert` events (ALERT_DESTINATION_ID); null: no alert is raised. */
  destinationId: string | null;
  /** The backlog is late past this age (ALERT_BACKLOG_MINUTES), in ms: /healthz degraded, and a backlog alert. */
  backlogLateMs: number;
  /** One alert per kind and subject within this time (ALERT_COOLDOWN_MINUTES), in ms. */
  cooldownMs: number;
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

/** A retention age in days: 0 (keep forever) to MAX_RETENTION_DAYS. */
function parseDays(name: string, raw: string | undefined, fallback: number, problems: string[]): number {
  return parseIntInRange(name, raw, { min: 0, max: MAX_RETENTION_DAYS, fallback }, problems);
}

/**
 * SECRETS_ENCRYPTION_KEY: comma-separated base64 (or base64url) 32-byte keys, newest first. Any malformed entry
 * rejects the whole list (fail closed: sealing with the wrong key, or silently with a later one, is worse than
 * refusing); the problem names the entry's position, never its value.
 */
export function parseSecretKeys(raw: string | undefined, problems: string[]): Uint8Array[] {
  const entries = list(raw);
  if (entries.length === 0) {
    problems.push("SECRETS_ENCRYPTION_KEY is not set: destinations cannot be created and forwarding cannot sign");
    return [];
  }
  const keys: Uint8Array[] = [];
  for (const [index, entry] of entries.entries()) {
    const key = fromBase64Any(entry);
    if (key?.length !== KEY_BYTES) {
      problems.push(
        `SECRETS_ENCRYPTION_KEY entry ${index + 1} of ${entries.length} is not base64 of ${KEY_BYTES} bytes: ` +
          "the variable is ignored; destinations cannot be created and forwarding cannot sign",
      );
      return [];
    }
    keys.push(key);
  }
  return keys;
}

function parseAlertConfig(env: Env, problems: string[]): AlertConfig {
  const raw = env.ALERT_DESTINATION_ID?.trim() ?? "";
  let destinationId: string | null = null;
  if (DESTINATION_ID_FORMAT.test(raw)) destinationId = raw;
  else if (raw !== "") problems.push("ALERT_DESTINATION_ID is not a destination id (dst_ and 20 hex digits): no alert is sent");
  const minutes = (name: string, value: string | undefined, max: number, fallback: number) =>
    60_000 * parseIntInRange(name, value, { min: 1, max, fallback }, problems);
  return {
    destinationId,
    backlogLateMs: minutes("ALERT_BACKLOG_MINUTES", env.ALERT_BACKLOG_MINUTES, MAX_ALERT_BACKLOG_MINUTES, DEFAULT_ALERT_BACKLOG_MINUTES),
    cooldownMs: minutes("ALERT_COOLDOWN_MINUTES", env.ALERT_COOLDOWN_MINUTES, MAX_ALERT_COOLDOWN_MINUTES, DEFAULT_ALERT_COOLDOWN_MINUTES),
  };
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
    inlineHook: parseInlineHookConfig(env, inlineSecrets, problems),
    adminTokens,
    maxBodyBytes: parseIntInRange(
      "MAX_BODY_BYTES",
      env.MAX_BODY_BYTES,
      { min: 1024, max: MAX_BODY_BYTES_CEILING, fallback: DEFAULT_MAX_BODY_BYTES },
      problems,
    ),
    ignoreActorIds: new Set(list(env.IGNORE_ACTOR_IDS)),
    allowInsecureDestinations: parseBool("ALLOW_INSECURE_DESTINATIONS", env.ALLOW_INSECURE_DESTINATIONS, problems),
    forwarding: {
      retryBaseSeconds: parseIntInRange(
        "FORWARD_RETRY_BASE_SECONDS",
        env.FORWARD_RETRY_BASE_SECONDS,
        { min: 1, max: MAX_FORWARD_RETRY_BASE_SECONDS, fallback: DEFAULT_FORWARD_RETRY_BASE_SECONDS },
        problems,
      ),
      enqueueWindowMs: parseIntInRange(
        "FORWARD_ENQUEUE_WINDOW_MS",
        env.FORWARD_ENQUEUE_WINDOW_MS,
        { min: 0, max: MAX_FORWARD_ENQUEUE_WINDOW_MS, fallback: DEFAULT_FORWARD_ENQUEUE_WINDOW_MS },
        problems,
      ),
      disableAfterFailures: parseIntInRange(
        "DESTINATION_DISABLE_AFTER_FAILURES",
        env.DESTINATION_DISABLE_AFTER_FAILURES,
        { min: 1, max: 100_000, fallback: DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES },
        problems,
      ),
      disableAfterMs:
        60_000 *
        parseIntInRange(
          "DESTINATION_DISABLE_AFTER_MINUTES",
          env.DESTINATION_DISABLE_AFTER_MINUTES,
          { min: 0, max: 7 * 24 * 60, fallback: DEFAULT_DESTINATION_DISABLE_AFTER_MINUTES },
          problems,
        ),
    },
    secretKeys: parseSecretKeys(env.SECRETS_ENCRYPTION_KEY, problems),
    retention: {
      eventDays: parseDays("RETENTION_EVENT_DAYS", env.RETENTION_EVENT_DAYS, DEFAULT_RETENTION_DAYS.events, problems),
      deadLetterDays: parseDays("RETENTION_DEAD_LETTER_DAYS", env.RETENTION_DEAD_LETTER_DAYS, DEFAULT_RETENTION_DAYS.deadLetters, problems),
      inlineCallDays: parseDays("RETENTION_INLINE_CALL_DAYS", env.RETENTION_INLINE_CALL_DAYS, DEFAULT_RETENTION_DAYS.inlineCalls, problems),
      statsDays: parseDays("RETENTION_STATS_DAYS", env.RETENTION_STATS_DAYS, DEFAULT_RETENTION_DAYS.stats, problems),
    },
    d1SizeLimitBytes:
      1_000_000 *
      parseIntInRange("D1_SIZE_LIMIT_MB", env.D1_SIZE_LIMIT_MB, { min: 1, max: 1_000_000, fallback: DEFAULT_D1_SIZE_LIMIT_MB }, problems),
    alerts: parseAlertConfig(env, problems),
  };
  return { config, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// Inline hooks (docs/inline-hooks.md; https://developer.okta.com/docs/concepts/inline-hooks/)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Okta waits 3 s for an inline hook (https://developer.okta.com/docs/concepts/inline-hooks/); we answer well inside it,
 * leaving room for the network.
 */
export const DEFAULT_INLINE_DEADLINE_MS = 2000;
export const MIN_INLINE_DEADLINE_MS = 100;
export const MAX_INLINE_DEADLINE_MS = 2800;
/** How long an isolate keeps the rules (and looked-up values) before reading D1 again. */
export const DEFAULT_RULES_CACHE_TTL_SECONDS = 30;
export const MAX_RULES_CACHE_TTL_SECONDS = 3600;
/**
 * How long an isolate gathers inline hook calls of one type before writing them as one audit row (src/storage/
 * inline-call-buffer.ts); a full buffer is written at once. 0 writes on the next tick (a row per call unless
 * calls arrive together). Longer means fewer D1 rows and a later audit.
 */
export const DEFAULT_INLINE_AUDIT_FLUSH_MS = 1000;
export const MAX_INLINE_AUDIT_FLUSH_MS = 10_000;

/**
 * What to answer when a handler or lookup throws or runs past the deadline. "open": let Okta go on as if the hook
 * were not there (original token/assertion, registration allowed, import continues); "closed": refuse (error object,
 * registration denied). Defaults follow Okta's own behaviour when a hook times out
 * (each type's guide lists it; https://developer.okta.com/docs/concepts/inline-hooks/).
 * Password import is always closed (UNVERIFIED: "open" would accept any password) and telephony always open
 * (FAILED, so Okta sends the OTP itself): there is no safe other choice.
 */
export type { FallbackMode };
export const DEFAULT_INLINE_FALLBACKS: Readonly<Record<InlineHookType, FallbackMode>> = {
  token: "open",
  registration: "closed",
  "password-import": "closed",
  saml: "open",
  "user-import": "open",
  telephony: "open",
};
const FIXED_FALLBACKS: ReadonlySet<InlineHookType> = new Set(["password-import", "telephony"]);

export interface InlineOAuthConfig {
  issuer: string;
  audience: string;
  scope: string;
  jwksUrl: string;
}

export interface InlineHookConfig {
  header: string;
  secrets: string[];
  /** Set when Okta's OAuth 2.0 bearer JWT is accepted (INLINE_HOOK_OAUTH_*). */
  oauth: InlineOAuthConfig | null;
  deadlineMs: number;
  fallbacks: Record<InlineHookType, FallbackMode>;
  rulesCacheTtlMs: number;
  /** INLINE_AUDIT_FLUSH_MS: the audit buffer's longest wait before it is written. */
  auditFlushMs: number;
}

/** https, or http to a loopback host (local development and tests). */
function isAcceptableUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.protocol === "https:") return true;
    return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  } catch {
    return false;
  }
}

function parseOAuth(env: Env, problems: string[]): InlineOAuthConfig | null {
  const issuer = env.INLINE_HOOK_OAUTH_ISSUER?.trim() ?? "";
  const audience = env.INLINE_HOOK_OAUTH_AUDIENCE?.trim() ?? "";
  const scope = env.INLINE_HOOK_OAUTH_SCOPE?.trim() ?? "";
  const jwksRaw = env.INLINE_HOOK_OAUTH_JWKS_URL?.trim() ?? "";
  if (issuer === "" && audience === "" && scope === "" && jwksRaw === "") return null;
  const missing = [
    issuer === "" && "INLINE_HOOK_OAUTH_ISSUER",
    audience === "" && "INLINE_HOOK_OAUTH_AUDIENCE",
    scope === "" && "INLINE_HOOK_OAUTH_SCOPE",
  ].filter((m): m is string => typeof m === "string");
  if (missing.length > 0) {
    problems.push(`inline hook OAuth is half configured (${missing.join(", ")} not set): bearer tokens are refused`);
    return null;
  }
  // Okta custom authorization servers publish their keys at {issuer}/v1/keys
  // (https://developer.okta.com/docs/guides/secure-hooks/main/).
  const jwksUrl = jwksRaw !== "" ? jwksRaw : `${issuer.replace(/\/+$/, "")}/v1/keys`;
  if (!isAcceptableUrl(jwksUrl)) {
    problems.push("INLINE_HOOK_OAUTH_JWKS_URL (or the issuer) must be an https URL: bearer tokens are refused");
    return null;
  }
  return { issuer, audience, scope, jwksUrl };
}

/** INLINE_HOOK_FALLBACKS="token=closed,saml=open": per-type overrides of DEFAULT_INLINE_FALLBACKS. */
function parseFallbacks(raw: string | undefined, problems: string[]): Record<InlineHookType, FallbackMode> {
  const fallbacks = { ...DEFAULT_INLINE_FALLBACKS };
  for (const entry of list(raw)) {
    const [type, mode] = entry.split("=").map((s) => s.trim());
    if (!INLINE_HOOK_TYPES.includes(type as InlineHookType) || (mode !== "open" && mode !== "closed")) {
      problems.push(`INLINE_HOOK_FALLBACKS: "${entry}" is not <type>=open|closed (types: ${INLINE_HOOK_TYPES.join(", ")})`);
      continue;
    }
    const hookType = type as InlineHookType;
    if (FIXED_FALLBACKS.has(hookType) && mode !== DEFAULT_INLINE_FALLBACKS[hookType]) {
      problems.push(`INLINE_HOOK_FALLBACKS: ${hookType} is always ${DEFAULT_INLINE_FALLBACKS[hookType]}; "${entry}" ignored`);
      continue;
    }
    fallbacks[hookType] = mode;
  }
  return fallbacks;
}

function parseInlineHookConfig(env: Env, secrets: string[], problems: string[]): InlineHookConfig {
  const oauth = parseOAuth(env, problems);
  if (secrets.length === 0 && oauth === null) {
    problems.push("Neither INLINE_HOOK_SECRETS nor INLINE_HOOK_OAUTH_* is set: /hooks/inline/* refuses every call with 503");
  }
  return {
    header: parseHeaderName("INLINE_HOOK_AUTH_HEADER", env.INLINE_HOOK_AUTH_HEADER, problems),
    secrets,
    oauth,
    deadlineMs: parseIntInRange(
      "INLINE_HOOK_DEADLINE_MS",
      env.INLINE_HOOK_DEADLINE_MS,
      { min: MIN_INLINE_DEADLINE_MS, max: MAX_INLINE_DEADLINE_MS, fallback: DEFAULT_INLINE_DEADLINE_MS },
      problems,
    ),
    fallbacks: parseFallbacks(env.INLINE_HOOK_FALLBACKS, problems),
    rulesCacheTtlMs:
      1000 *
      parseIntInRange(
        "INLINE_RULES_CACHE_TTL_SECONDS",
        env.INLINE_RULES_CACHE_TTL_SECONDS,
        { min: 0, max: MAX_RULES_CACHE_TTL_SECONDS, fallback: DEFAULT_RULES_CACHE_TTL_SECONDS },
        problems,
      ),
    auditFlushMs: parseIntInRange(
      "INLINE_AUDIT_FLUSH_MS",
      env.INLINE_AUDIT_FLUSH_MS,
      { min: 0, max: MAX_INLINE_AUDIT_FLUSH_MS, fallback: DEFAULT_INLINE_AUDIT_FLUSH_MS },
      problems,
    ),
  };
}

// One parse per env object: the env of an isolate is stable, so the hot path does no parsing. A per-request or
// per-batch copy of the env (src/storage/d1.ts meteredEnv) names the env it copies under this symbol.
const cache = new WeakMap<Env, ConfigResult>();
export const ENV_ORIGIN = Symbol.for("okta-hooks-edge.env-origin");

export function getConfig(env: Env): ConfigResult {
  const key = ((env as unknown as Record<symbol, unknown>)[ENV_ORIGIN] as Env | undefined) ?? env;
  let result = cache.get(key);
  if (!result) {
    result = parseConfig(key);
    cache.set(key, result);
  }
  return result;
}
