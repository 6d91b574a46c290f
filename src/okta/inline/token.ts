/**
 * Token inline hook, `com.okta.oauth2.tokens.transform`
 * (https://developer.okta.com/docs/guides/token-inline-hook/main/;
 * Okta's management OpenAPI spec, `TokenHookResponse`).
 *
 * Commands: `com.okta.identity.patch` (ID token) and `com.okta.access.patch` (access token), each a list of
 * `{op, path, value}` with ops add/replace/remove on `/claims/<name>[/…]`, or replace on
 * `/token/lifetime/expiration` (300–86,400 s). The builders refuse, with a message naming the problem:
 * reserved claims (Okta fails the whole patch), `aud`/`sub` in an ID token, `remove` with a value, lifetimes out
 * of range, patches of tokens that were not requested, and replace/remove of a claim the token does not hold.
 * Empty decision: 204 (Okta's token hook guide: nothing to add → 204). Error object: the token request fails.
 */
import * as z from "zod";
import {
  InlineCommandError,
  contextRequestSchema,
  inlineRequestSchema,
  inlineResponseSchema,
  jsonRecord,
  parsePointer,
  pathSegments,
  toPointer,
  type InlineResponse,
  type PointerSegment,
} from "./common";

export const TOKEN_EVENT_TYPE = "com.okta.oauth2.tokens.transform";
export const LIFETIME_PATH = "/token/lifetime/expiration";
export const MIN_LIFETIME_SECONDS = 300;
export const MAX_LIFETIME_SECONDS = 86_400;

/**
 * Claims Okta reserves (the token inline hook reference's table,
 * https://developer.okta.com/docs/guides/token-inline-hook/main/); `device_*` is a prefix. `aud`/`sub` are allowed in
 * access tokens.
 */
export const RESERVED_TOKEN_CLAIMS: ReadonlySet<string> = new Set(
  ("acr active aid amr app_id app_type as_uri at_hash aud auth_time authorization_details c_hash cid client_id " +
    "client_ip client_req_id client_type client_user_agent cnf did dst exp group groups hotk iat idp idp_iss iss " +
    "jti mac_key may_act nonce oid okta_emailVerified okta_lastUpdated orig permissions purpose pwd_exp_days " +
    "pwd_exp_time rid role rpt rsi scope scopes scp sid sub term token_type uid user_ip username ver").split(" "),
);
const ACCESS_TOKEN_MODIFIABLE = new Set(["aud", "sub"]);

export type TokenKind = "identity" | "access";

const tokenSchema = z
  .looseObject({
    claims: jsonRecord.nullish(),
    token: z.looseObject({ lifetime: z.looseObject({ expiration: z.number().nullish() }).nullish() }).nullish(),
    scopes: z.record(z.string(), z.unknown()).nullish(),
  })
  .nullish();

export const tokenHookRequestSchema = inlineRequestSchema(
  TOKEN_EVENT_TYPE,
  z.looseObject({
    context: z.looseObject({
      request: contextRequestSchema,
      protocol: z
        .looseObject({
          type: z.string().nullish(),
          request: z.looseObject({ client_id: z.string().nullish(), scope: z.string().nullish() }).nullish(),
          issuer: z.looseObject({ uri: z.string().nullish() }).nullish(),
          client: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
        })
        .nullish(),
      session: z.looseObject({}).nullish(),
      user: z.looseObject({ id: z.string().nullish(), profile: jsonRecord.nullish() }).nullish(),
      policy: z.looseObject({}).nullish(),
    }),
    identity: tokenSchema,
    access: tokenSchema,
    refresh_token: z.looseObject({}).nullish(),
  }),
);
export type TokenHookRequest = z.infer<typeof tokenHookRequestSchema>;

export type TokenPatchOp =
  | { op: "add" | "replace"; path: string; value: unknown }
  | { op: "remove"; path: string; value?: null };

const patchOpSchema = z.union([
  z.strictObject({ op: z.enum(["add", "replace"]), path: z.string().startsWith("/"), value: z.unknown() }),
  z.strictObject({ op: z.literal("remove"), path: z.string().startsWith("/"), value: z.null().optional() }),
]);

export const tokenCommandSchema = z.strictObject({
  type: z.enum(["com.okta.identity.patch", "com.okta.access.patch"]),
  value: z.array(patchOpSchema).min(1),
});
export type TokenCommand = { type: "com.okta.identity.patch" | "com.okta.access.patch"; value: TokenPatchOp[] };
export const tokenHookResponseSchema = inlineResponseSchema(tokenCommandSchema).superRefine((response, ctx) => {
  response.commands?.forEach((command, i) => {
    const kind: TokenKind = command.type === "com.okta.identity.patch" ? "identity" : "access";
    command.value.forEach((op, j) => {
      const problem = tokenOpProblem(kind, op as TokenPatchOp);
      if (problem) ctx.addIssue({ code: "custom", path: ["commands", i, "value", j], message: problem });
    });
  });
});
export type TokenHookResponse = InlineResponse<TokenCommand>;

// ---- op helpers: they build the pointer; the patch functions check the semantics ----

/** add `value` at `/claims/<name>[/<member>|/<index>|/-]` (an existing claim is replaced). */
export function addClaim(path: string | readonly PointerSegment[], value: unknown): TokenPatchOp {
  return { op: "add", path: toPointer(["claims", ...pathSegments(path, "addClaim")]), value };
}
export function replaceClaim(path: string | readonly PointerSegment[], value: unknown): TokenPatchOp {
  return { op: "replace", path: toPointer(["claims", ...pathSegments(path, "replaceClaim")]), value };
}
/** remove; Okta accepts no value at all (or null) and fails the whole patch otherwise. */
export function removeClaim(path: string | readonly PointerSegment[]): TokenPatchOp {
  return { op: "remove", path: toPointer(["claims", ...pathSegments(path, "removeClaim")]) };
}
/** replace /token/lifetime/expiration, in seconds (300–86,400). */
export function setTokenLifetime(seconds: number): TokenPatchOp {
  return { op: "replace", path: LIFETIME_PATH, value: seconds };
}

/** Why Okta would refuse this op in this token, or null when it is acceptable. */
export function tokenOpProblem(kind: TokenKind, op: TokenPatchOp): string | null {
  const token = kind === "identity" ? "ID token" : "access token";
  if (op.path === LIFETIME_PATH) {
    if (op.op !== "replace") return `${LIFETIME_PATH} only accepts "replace", not "${op.op}"`;
    const v = op.value;
    if (typeof v !== "number" || !Number.isInteger(v) || v < MIN_LIFETIME_SECONDS || v > MAX_LIFETIME_SECONDS) {
      return `token lifetime must be an integer between ${MIN_LIFETIME_SECONDS} and ${MAX_LIFETIME_SECONDS} seconds, got ${JSON.stringify(v)}`;
    }
    return null;
  }
  const segments = parsePointer(op.path);
  if (!segments || segments[0] !== "claims" || segments.length < 2 || segments[1] === "") {
    return `path "${op.path}" is neither /claims/<name>[/…] nor ${LIFETIME_PATH}`;
  }
  const claim = segments[1]!;
  const last = segments[segments.length - 1];
  if (last === "-" && (op.op !== "add" || segments.length < 3)) return `"-" (append) only works with "add" on an array claim`;
  if (op.op === "remove" && op.value !== undefined && op.value !== null) {
    return `"remove" of ${op.path} must have no value (or null); Okta fails the whole patch otherwise`;
  }
  const reserved = RESERVED_TOKEN_CLAIMS.has(claim) || claim.startsWith("device_");
  if (reserved && !(kind === "access" && ACCESS_TOKEN_MODIFIABLE.has(claim))) {
    const hint = ACCESS_TOKEN_MODIFIABLE.has(claim) ? " (it may be changed in access tokens only)" : "";
    return `claim "${claim}" is reserved by Okta and cannot be changed in an ${token}${hint}`;
  }
  return null;
}

function patch(kind: TokenKind, ops: readonly TokenPatchOp[], request?: TokenHookRequest): TokenCommand {
  if (ops.length === 0) throw new InlineCommandError(`a ${kind} patch needs at least one operation`);
  const token = request?.data[kind];
  if (request && !token) {
    throw new InlineCommandError(
      `the ${kind === "identity" ? "ID" : "access"} token was not requested; Okta rejects a patch of a token it is not minting`,
    );
  }
  for (const op of ops) {
    const problem = tokenOpProblem(kind, op);
    if (problem) throw new InlineCommandError(problem);
    if (token && op.op !== "add" && op.path !== LIFETIME_PATH) {
      const claim = parsePointer(op.path)![1]!;
      if (!token.claims || !(claim in token.claims)) {
        throw new InlineCommandError(`"${op.op}" of claim "${claim}": the token has no such claim (use "add")`);
      }
    }
  }
  return { type: kind === "identity" ? "com.okta.identity.patch" : "com.okta.access.patch", value: [...ops] };
}

/** A `com.okta.identity.patch` command; pass the request to check the ID token was requested and holds the claims. */
export function identityPatch(ops: readonly TokenPatchOp[], request?: TokenHookRequest): TokenCommand {
  return patch("identity", ops, request);
}
export function accessPatch(ops: readonly TokenPatchOp[], request?: TokenHookRequest): TokenCommand {
  return patch("access", ops, request);
}
