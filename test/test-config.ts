/**
 * The configuration tests run with: every name the gateway reads gets a value (blank = unset), so a developer's
 * `.dev.vars` — which wrangler merges into both the vitest plugin's bindings and `wrangler dev` — can never change
 * what a test sees. `satisfies` keeps this list complete when src/config-vars.ts grows.
 */
import type { ConfigVars } from "../src/config-vars";

/** The event hook secrets of the workers tests: two, as during a rotation (the new one is what Okta sends). */
export const TEST_EVENT_SECRET_OLD = "test-event-secret-old";
export const TEST_EVENT_SECRET_NEW = "test-event-secret-new";
/** The inline hook secret and the admin token of the workers tests. */
export const TEST_INLINE_SECRET = "test-inline-secret";
export const TEST_ADMIN_TOKEN = "test-admin-token";

/** The fixed SECRETS_ENCRYPTION_KEY of the workers tests: base64 of "okta-hooks-edge-test-key-32bytes". */
export const TEST_SECRETS_ENCRYPTION_KEY = "b2t0YS1ob29rcy1lZGdlLXRlc3Qta2V5LTMyYnl0ZXM=";

export function isolatedConfig(values: ConfigVars): Required<ConfigVars> {
  const blank = {
    EVENT_HOOK_SECRETS: "",
    EVENT_HOOK_AUTH_HEADER: "",
    INLINE_HOOK_SECRETS: "",
    INLINE_HOOK_AUTH_HEADER: "",
    INLINE_HOOK_OAUTH_ISSUER: "",
    INLINE_HOOK_OAUTH_AUDIENCE: "",
    INLINE_HOOK_OAUTH_SCOPE: "",
    INLINE_HOOK_OAUTH_JWKS_URL: "",
    INLINE_HOOK_DEADLINE_MS: "",
    INLINE_HOOK_FALLBACKS: "",
    INLINE_RULES_CACHE_TTL_SECONDS: "",
    INLINE_AUDIT_FLUSH_MS: "",
    ADMIN_TOKEN: "",
    MAX_BODY_BYTES: "",
    IGNORE_ACTOR_IDS: "",
    ALLOW_INSECURE_DESTINATIONS: "",
    FORWARD_RETRY_BASE_SECONDS: "",
    FORWARD_ENQUEUE_WINDOW_MS: "",
    DESTINATION_DISABLE_AFTER_FAILURES: "",
    DESTINATION_DISABLE_AFTER_MINUTES: "",
    SECRETS_ENCRYPTION_KEY: "",
    RETENTION_EVENT_DAYS: "",
    RETENTION_DEAD_LETTER_DAYS: "",
    RETENTION_INLINE_CALL_DAYS: "",
    RETENTION_STATS_DAYS: "",
    D1_SIZE_LIMIT_MB: "",
    ALERT_DESTINATION_ID: "",
    ALERT_BACKLOG_MINUTES: "",
    ALERT_COOLDOWN_MINUTES: "",
  } satisfies Required<ConfigVars>;
  return { ...blank, ...(values as Record<string, string>) };
}
