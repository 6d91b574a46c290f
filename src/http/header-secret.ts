/**
 * Shared-secret authentication for Okta hook calls (https://developer.okta.com/docs/guides/secure-hooks/main/): Okta
 * sends a static value, configured on the hook as channel.config.authScheme {key: <header>, value: <secret>}, on
 * every call including the verification GET.
 *
 * - No secret configured → 503 not_configured: a hook route never runs open by accident.
 * - Several secrets are accepted (comma-separated), so a secret can be rotated without downtime: add the new one,
 *   change it in Okta, remove the old one.
 * - Comparison is constant-time: both values are hashed with SHA-256 (fixed length, so the comparison does not
 *   leak the secret's length; the configured ones once per isolate) and compared with
 *   crypto.subtle.timingSafeEqual, against every configured secret without stopping at the first match.
 * - A missing header and a wrong value get the same 401 and the same message.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors";
import type { Config } from "../config";
import type { AppEnv } from "./types";

export interface SharedSecretOptions {
  /** Which part of the configuration holds the header name and the accepted secrets. */
  select: (config: Config) => { header: string; secrets: string[] };
  /** Names the configuration variable in the 503 message, e.g. "EVENT_HOOK_SECRETS". */
  secretsVariable: string;
}

const encoder = new TextEncoder();

async function sha256(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * The digests of an accepted list, computed once per list: the configuration (and so each list) is parsed once per
 * isolate (src/config.ts), so a request hashes only what it presents.
 */
const acceptedDigests = new WeakMap<readonly string[], Promise<ArrayBuffer[]>>();

function digestsOf(accepted: readonly string[]): Promise<ArrayBuffer[]> {
  let digests = acceptedDigests.get(accepted);
  if (digests === undefined) {
    digests = Promise.all(accepted.map(sha256));
    acceptedDigests.set(accepted, digests);
  }
  return digests;
}

/** True when `presented` equals one of `accepted`, in time independent of where (or whether) it matches. */
export async function matchesAnySecret(presented: string, accepted: readonly string[]): Promise<boolean> {
  const [presentedHash, acceptedHashes] = await Promise.all([sha256(presented), digestsOf(accepted)]);
  let matched = false;
  for (const secretHash of acceptedHashes) {
    const equal = crypto.subtle.timingSafeEqual(presentedHash, secretHash);
    matched = equal || matched;
  }
  return matched;
}

export function requireSharedSecret(options: SharedSecretOptions) {
  if (!options.secretsVariable) throw new Error("requireSharedSecret: secretsVariable is required");
  return createMiddleware<AppEnv>(async function sharedSecret(c, next) {
    const { header, secrets } = options.select(c.var.config);
    if (secrets.length === 0) {
      c.var.logFields.problem = `${options.secretsVariable} is not set`;
      throw new ApiError("not_configured", `This hook is not configured: set ${options.secretsVariable}.`);
    }
    const presented = c.req.header(header);
    if (presented === undefined || !(await matchesAnySecret(presented, secrets))) {
      c.var.logFields.auth = presented === undefined ? "missing" : "mismatch";
      throw new ApiError("unauthorized", "Missing or invalid credentials.");
    }
    await next();
  });
}
