/**
 * Authentication of inline hook calls (https://developer.okta.com/docs/guides/secure-hooks/main/): Okta's header secret
 * (INLINE_HOOK_AUTH_HEADER /
 * INLINE_HOOK_SECRETS, constant time, several accepted for rotation) OR Okta's OAuth 2.0 bearer JWT
 * (INLINE_HOOK_OAUTH_*: RS256 from the issuer's JWKS, iss, aud, exp/nbf, required scope).
 *
 * Neither configured → 503 (never open by accident). Any failure → the same vague 401; the precise reason (a tag,
 * never the token) goes to the request's log line as `auth`.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../../../errors";
import { jwksKeyLookup } from "../../oauth-bearer/jwks";
import { verifyJwt } from "../../oauth-bearer/jwt";
import { matchesAnySecret } from "../../header-secret";
import type { AppEnv } from "../../types";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export const requireInlineHookAuth = createMiddleware<AppEnv>(async function requireInlineHookAuth(c, next) {
  const { header, secrets, oauth } = c.var.config.inlineHook;
  const fields = c.var.logFields;
  if (secrets.length === 0 && oauth === null) {
    fields.problem = "neither INLINE_HOOK_SECRETS nor INLINE_HOOK_OAUTH_* is set";
    throw new ApiError("not_configured", "Inline hooks are not configured: set INLINE_HOOK_SECRETS or INLINE_HOOK_OAUTH_*.");
  }
  const presented = c.req.header(header);
  if (secrets.length > 0 && presented !== undefined && (await matchesAnySecret(presented, secrets))) {
    fields.auth = "secret";
    return next();
  }
  const bearer = oauth ? BEARER.exec(c.req.header("authorization") ?? "")?.[1] : undefined;
  if (oauth && bearer !== undefined) {
    const now = Date.now();
    const result = await verifyJwt(bearer, oauth, jwksKeyLookup(oauth.jwksUrl, now), Math.floor(now / 1000));
    if (result.ok) {
      fields.auth = "oauth";
      return next();
    }
    fields.auth = `oauth:${result.reason}`;
  } else {
    fields.auth = presented === undefined ? "missing" : "mismatch";
  }
  throw new ApiError("unauthorized", "Missing or invalid credentials.");
});
