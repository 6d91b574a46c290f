/**
 * The issuer's signing keys (JWKS), cached in the isolate per JWKS URL.
 *
 * - Keys are fetched on first use and reused; a set older than JWKS_MAX_AGE_MS is refetched on the next call
 *   (a failed refetch keeps the old keys, so a JWKS outage does not break hooks that were working).
 * - A token naming an unknown `kid` (Okta rotated its keys) triggers ONE refetch, and refetches are rate-limited to
 *   one per JWKS_MIN_REFETCH_INTERVAL_MS, so a stream of tokens with made-up kids cannot make us hammer the issuer.
 * - The fetch has its own short timeout: it runs inside Okta's 3 s budget.
 * Only RSA signing keys usable for RS256 are imported (WebCrypto RSASSA-PKCS1-v1_5 / SHA-256).
 */
import type { KeyLookup } from "./jwt";

export const JWKS_MAX_AGE_MS = 10 * 60_000;
/** At most one refetch for an unknown `kid` per this interval. */
export const JWKS_MIN_REFETCH_INTERVAL_MS = 30_000;
/** After a failed fetch, wait this long before trying again (each hook call would otherwise pay a timeout). */
export const JWKS_RETRY_AFTER_FAILURE_MS = 5_000;
export const JWKS_FETCH_TIMEOUT_MS = 1000;

interface CachedJwks {
  keys: Map<string, CryptoKey>;
  /** When the keys were fetched successfully (0: never). */
  fetchedAt: number;
  failedAt: number;
  unknownKidRefetchAt: number;
}

const cache = new Map<string, CachedJwks>();
const inFlight = new Map<string, Promise<Map<string, CryptoKey> | null>>();

async function importKeys(body: unknown): Promise<Map<string, CryptoKey>> {
  const keys = new Map<string, CryptoKey>();
  const list = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return keys;
  for (const jwk of list as Array<Record<string, unknown>>) {
    if (jwk?.kty !== "RSA" || typeof jwk.kid !== "string") continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    if (jwk.alg !== undefined && jwk.alg !== "RS256") continue;
    try {
      const key = await crypto.subtle.importKey(
        "jwk",
        { kty: "RSA", n: jwk.n as string, e: jwk.e as string, alg: "RS256", ext: true },
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["verify"],
      );
      keys.set(jwk.kid, key);
    } catch {
      // A malformed key in the set: skip it, the others may still verify.
    }
  }
  return keys;
}

async function fetchKeys(url: string): Promise<Map<string, CryptoKey> | null> {
  try {
    const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
    if (!res.ok) return null;
    return await importKeys(await res.json());
  } catch {
    return null;
  }
}

/** Fetch the set (sharing a fetch already in flight) and return the entry as it stands afterwards. */
async function refresh(url: string, now: number): Promise<CachedJwks> {
  let pending = inFlight.get(url);
  if (!pending) {
    pending = fetchKeys(url).finally(() => inFlight.delete(url));
    inFlight.set(url, pending);
  }
  const keys = await pending;
  const entry = cache.get(url) ?? { keys: new Map(), fetchedAt: 0, failedAt: 0, unknownKidRefetchAt: 0 };
  if (keys) {
    entry.keys = keys;
    entry.fetchedAt = now;
  } else {
    entry.failedAt = now;
  }
  cache.set(url, entry);
  return entry;
}

/** A key lookup over the JWKS at `url`, for verifyJwt. `now` is epoch milliseconds. */
export function jwksKeyLookup(url: string, now: number): KeyLookup {
  return async (kid) => {
    let entry = cache.get(url);
    let fetched = false;
    const stale = !entry || now - entry.fetchedAt > JWKS_MAX_AGE_MS;
    const backingOff = entry !== undefined && now - entry.failedAt < JWKS_RETRY_AFTER_FAILURE_MS;
    if (stale && !backingOff) {
      entry = await refresh(url, now);
      fetched = true;
    }
    const key = entry?.keys.get(kid);
    if (key) return { ok: true, value: key };
    if (!entry || entry.fetchedAt === 0) return { ok: false, reason: "jwks_unavailable" };
    // Unknown kid: Okta may have rotated its keys. Refetch once, at most once per interval.
    if (!fetched && now - entry.unknownKidRefetchAt >= JWKS_MIN_REFETCH_INTERVAL_MS) {
      entry.unknownKidRefetchAt = now;
      entry = await refresh(url, now);
      const rotated = entry.keys.get(kid);
      if (rotated) return { ok: true, value: rotated };
    }
    return { ok: false, reason: "unknown_kid" };
  };
}
