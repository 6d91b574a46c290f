/**
 * Validation of the OAuth 2.0 access token Okta presents on inline hook calls
 * (https://developer.okta.com/docs/concepts/inline-hooks/: "The OAuth 2.0 inline hook request includes the token as
 * a signed JWT. Your external service must verify the JWT").
 *
 * Parsing, the algorithm allow-list, the signature and the registered claims (`iss`, `aud`, `exp`, `nbf` with a
 * clock tolerance) are checked by jose's `jwtVerify` (https://github.com/panva/jose), a maintained, widely audited
 * implementation, rather than by hand. What jose leaves to us: where the keys come from (./jwks.ts keeps its own
 * cache, because jose's remote key set throws when a refetch fails, where we keep serving the last good keys), and
 * the scope Okta puts in `scp`. Every failure maps to a tagged reason; the middleware answers the same vague 401 for
 * all of them and logs the tag.
 */
import { errors, jwtVerify, type JWTPayload } from "jose";

/** Okta signs with RS256. Anything else, `none` and the HS* family included, is refused. */
export const ALLOWED_JWT_ALGS: readonly string[] = ["RS256"];
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

export type KeyLookup = (kid: string) => Promise<Result<CryptoKey, "unknown_kid" | "jwks_unavailable">>;

/** Carries a reason out of the key lookup jose calls. */
class LookupFailure extends Error {
  constructor(readonly reason: JwtFailure) {
    super(reason);
  }
}

function hasScope(payload: JWTPayload, scope: string): boolean {
  const { scp, scope: scopeClaim } = payload as { scp?: unknown; scope?: unknown };
  if (Array.isArray(scp) && scp.includes(scope)) return true;
  if (typeof scp === "string" && scp.split(" ").includes(scope)) return true;
  return typeof scopeClaim === "string" && scopeClaim.split(" ").includes(scope);
}

function reasonOf(error: unknown): JwtFailure {
  if (error instanceof LookupFailure) return error.reason;
  if (error instanceof errors.JOSEAlgNotAllowed) return "alg_not_allowed";
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "aud") return "wrong_audience";
    if (error.claim === "nbf") return "not_yet_valid";
    if (error.claim === "exp") return "expired"; // missing or not a number
    return "malformed";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  return "malformed"; // JWSInvalid, JWTInvalid, and anything jose could not parse
}

/** Verify `token` against the issuer's keys; `nowSeconds` is Unix time. Answers the payload or a tagged reason. */
export async function verifyJwt(
  token: string,
  expected: JwtExpectations,
  lookupKey: KeyLookup,
  nowSeconds: number,
): Promise<Result<JWTPayload, JwtFailure>> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        if (typeof header.kid !== "string" || header.kid === "") throw new LookupFailure("missing_kid");
        const key = await lookupKey(header.kid);
        if (!key.ok) throw new LookupFailure(key.reason);
        return key.value;
      },
      {
        algorithms: [...ALLOWED_JWT_ALGS],
        issuer: expected.issuer,
        audience: expected.audience,
        requiredClaims: ["exp"],
        clockTolerance: JWT_CLOCK_SKEW_SECONDS,
        currentDate: new Date(nowSeconds * 1000),
      },
    );
    if (!hasScope(payload, expected.scope)) return { ok: false, reason: "missing_scope" };
    return { ok: true, value: payload };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
}
