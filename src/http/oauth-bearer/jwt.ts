/**
 * Validation of the OAuth 2.0 access token Okta presents on inline hook calls
 * (https://developer.okta.com/docs/concepts/inline-hooks/: "The OAuth 2.0 inline
 * hook request includes the token as a signed JWT. Your external service must verify the JWT").
 *
 * Pure and synchronous where it can be: `checkJwtClaims` takes `now`; `verifyJwt` takes the key lookup as a
 * function. Both return a Result with a tagged reason; the middleware maps every reason to the same vague 401 and
 * logs the tag. Order (as honojs/middleware's JWK middleware does): header and alg allow-list, then claims
 * (cheap, no key needed), then the signature. Crypto is WebCrypto's RSASSA-PKCS1-v1_5/SHA-256; nothing hand-rolled.
 */

import { fromBase64Any } from "../../crypto/base64";

/** Okta signs with RS256 (IH-CONCEPT). Anything else, `none` and the HS* family included, is refused. */
export const ALLOWED_JWT_ALGS: ReadonlySet<string> = new Set(["RS256"]);
/** Tolerated clock difference between Okta's authorization server and this Worker, for `exp` and `nbf`. */
export const JWT_CLOCK_SKEW_SECONDS = 30;

export type JwtFailure =
  | "malformed"
  | "alg_not_allowed"
  | "missing_kid"
  | "wrong_issuer"
  | "wrong_audience"
  | "expired"
  | "not_yet_valid"
  | "missing_scope"
  | "unknown_kid"
  | "jwks_unavailable"
  | "bad_signature";

export type Result<T, E> = { ok: true; value: T } | { ok: false; reason: E };

export interface JwtExpectations {
  issuer: string;
  audience: string;
  /** Scope that must appear in `scp` (array, Okta) or `scope` (space-separated string, RFC 9068). */
  scope: string;
}

export interface DecodedJwt {
  header: { alg?: unknown; kid?: unknown; [k: string]: unknown };
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

/** JWT segments are unpadded base64url (RFC 7515 §2); anything else is malformed. */
function base64UrlDecode(segment: string): Uint8Array | null {
  return /^[A-Za-z0-9_-]*$/.test(segment) ? fromBase64Any(segment) : null;
}

function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  const bytes = base64UrlDecode(segment);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function decodeJwt(token: string): Result<DecodedJwt, "malformed"> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => p === "")) return { ok: false, reason: "malformed" };
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonSegment(h);
  const payload = decodeJsonSegment(p);
  const signature = base64UrlDecode(s);
  if (!header || !payload || !signature) return { ok: false, reason: "malformed" };
  return { ok: true, value: { header, payload, signingInput: new TextEncoder().encode(`${h}.${p}`), signature } };
}

function hasScope(payload: Record<string, unknown>, scope: string): boolean {
  const { scp, scope: scopeClaim } = payload;
  if (Array.isArray(scp) && scp.includes(scope)) return true;
  if (typeof scp === "string" && scp.split(" ").includes(scope)) return true;
  return typeof scopeClaim === "string" && scopeClaim.split(" ").includes(scope);
}

/** Checks everything but the signature. `nowSeconds` is Unix time. */
export function checkJwtClaims(
  decoded: DecodedJwt,
  expected: JwtExpectations,
  nowSeconds: number,
): Result<{ kid: string }, JwtFailure> {
  const { header, payload } = decoded;
  if (typeof header.alg !== "string" || !ALLOWED_JWT_ALGS.has(header.alg)) return { ok: false, reason: "alg_not_allowed" };
  if (typeof header.kid !== "string" || header.kid === "") return { ok: false, reason: "missing_kid" };
  if (payload.iss !== expected.issuer) return { ok: false, reason: "wrong_issuer" };
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(expected.audience)) return { ok: false, reason: "wrong_audience" };
  if (typeof payload.exp !== "number" || nowSeconds >= payload.exp + JWT_CLOCK_SKEW_SECONDS) {
    return { ok: false, reason: "expired" };
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== "number" || nowSeconds < payload.nbf - JWT_CLOCK_SKEW_SECONDS)) {
    return { ok: false, reason: "not_yet_valid" };
  }
  if (!hasScope(payload, expected.scope)) return { ok: false, reason: "missing_scope" };
  return { ok: true, value: { kid: header.kid } };
}

export type KeyLookup = (kid: string) => Promise<Result<CryptoKey, "unknown_kid" | "jwks_unavailable">>;

export async function verifyJwt(
  token: string,
  expected: JwtExpectations,
  lookupKey: KeyLookup,
  nowSeconds: number,
): Promise<Result<Record<string, unknown>, JwtFailure>> {
  const decoded = decodeJwt(token);
  if (!decoded.ok) return decoded;
  const checked = checkJwtClaims(decoded.value, expected, nowSeconds);
  if (!checked.ok) return checked;
  const key = await lookupKey(checked.value.kid);
  if (!key.ok) return key;
  const valid = await crypto.subtle.verify(
    { name: "RSASSA-PKCS1-v1_5" },
    key.value,
    decoded.value.signature,
    decoded.value.signingInput,
  );
  return valid ? { ok: true, value: decoded.value.payload } : { ok: false, reason: "bad_signature" };
}
