/**
 * Every configuration name the gateway reads, as the raw strings wrangler.toml [vars], `wrangler secret put` and
 * `.dev.vars` provide. Kept free of Workers types so Node-side code (the test configuration, the e2e harness) can
 * list the same names. Meanings and defaults: src/config.ts and README "Configuration".
 */
export interface ConfigVars {
  EVENT_HOOK_SECRETS?: string;
  EVENT_HOOK_AUTH_HEADER?: string;
  INLINE_HOOK_SECRETS?: string;
  INLINE_HOOK_AUTH_HEADER?: string;
  INLINE_HOOK_OAUTH_ISSUER?: string;
  INLINE_HOOK_OAUTH_AUDIENCE?: string;
  INLINE_HOOK_OAUTH_SCOPE?: string;
  INLINE_HOOK_OAUTH_JWKS_URL?: string;
  INLINE_HOOK_DEADLINE_MS?: string;
  INLINE_HOOK_FALLBACKS?: string;
  INLINE_RULES_CACHE_TTL_SECONDS?: string;
  INLINE_AUDIT_FLUSH_MS?: string;
  ADMIN_TOKEN?: string;
  MAX_BODY_BYTES?: string;
  IGNORE_ACTOR_IDS?: string;
  ALLOW_INSECURE_DESTINATIONS?: string;
  FORWARD_RETRY_BASE_SECONDS?: string;
  FORWARD_ENQUEUE_WINDOW_MS?: string;
  DESTINATION_DISABLE_AFTER_FAILURES?: string;
  DESTINATION_DISABLE_AFTER_MINUTES?: string;
  SECRETS_ENCRYPTION_KEY?: string;
  RETENTION_EVENT_DAYS?: string;
  RETENTION_DEAD_LETTER_DAYS?: string;
  RETENTION_INLINE_CALL_DAYS?: string;
  RETENTION_STATS_DAYS?: string;
  D1_SIZE_LIMIT_MB?: string;
  ALERT_DESTINATION_ID?: string;
  ALERT_BACKLOG_MINUTES?: string;
  ALERT_COOLDOWN_MINUTES?: string;
}
