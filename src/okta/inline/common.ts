/**
 * What every inline hook type shares (https://developer.okta.com/docs/concepts/inline-hooks/): the request envelope,
 * the response object (`commands`, `error`, `debugContext`), Okta's 256 KB response limit, JSON Pointer escaping, and
 * the error a builder throws when asked for a command the type does not allow.
 *
 * Request schemas are loose (Okta adds fields and the OpenAPI examples carry numbers where the docs have strings);
 * response schemas are strict, because every response we send is checked against them first.
 *
 * Pure domain code: no Hono, no D1, no fetch.
 */
import * as z from "zod";

/** Okta refuses inline hook responses of 256 KB or more (IH-CONCEPT "HookResponseSize"). */
export const MAX_RESPONSE_BYTES = 256 * 1024;

/** The six inline hook types, by the route segment under /hooks/inline/ and Okta's `eventType`. */
export const INLINE_HOOK_EVENT_TYPES = {
  token: "com.okta.oauth2.tokens.transform",
  registration: "com.okta.user.pre-registration",
  "password-import": "com.okta.user.credential.password.import",
  saml: "com.okta.saml.tokens.transform",
  "user-import": "com.okta.import.transform",
  telephony: "com.okta.telephony.provider",
} as const;

export type InlineHookType = keyof typeof INLINE_HOOK_EVENT_TYPES;
export const INLINE_HOOK_TYPES = Object.keys(INLINE_HOOK_EVENT_TYPES) as InlineHookType[];

/** A builder was asked for something Okta does not accept; the message names what and why. */
export class InlineCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InlineCommandError";
  }
}

const looseString = z.union([z.string(), z.number()]).nullish();

/**
 * The envelope every inline hook request shares (Okta's management OpenAPI spec, `InlineHookBasePayload`); `data` is
 * typed per type.
 */
export function inlineRequestSchema<E extends string, D extends z.ZodType>(eventType: E, data: D) {
  return z.looseObject({
    eventType: z.literal(eventType),
    eventId: z.string().nullish(),
    eventTime: z.string().nullish(),
    // The OpenAPI spec's examples have these as YAML numbers (1, 0.1); the docs have strings.
    eventTypeVersion: looseString,
    cloudEventVersion: looseString,
    contentType: z.string().nullish(),
    source: z.string().nullish(),
    data,
  });
}

export const contextRequestSchema = z
  .looseObject({
    id: z.string().nullish(),
    method: z.string().nullish(),
    url: z.looseObject({ value: z.string().nullish() }).nullish(),
    ipAddress: z.string().nullish(),
  })
  .nullish();

/** Attribute maps (profiles, claims): any JSON values. */
export const jsonRecord = z.record(z.string(), z.unknown());

// ---- response side ----

export const errorCauseSchema = z.strictObject({
  errorSummary: z.string().min(1),
  reason: z.string().optional(),
  locationType: z.enum(["body", "header", "url", "query"]).optional(),
  location: z.string().optional(),
  domain: z.string().optional(),
});
export type ErrorCause = z.infer<typeof errorCauseSchema>;

export const inlineErrorSchema = z.strictObject({
  errorSummary: z.string().min(1),
  errorCauses: z.array(errorCauseSchema).optional(),
});
export type InlineError = z.infer<typeof inlineErrorSchema>;

/** Free-form object Okta copies into the System Log; never put secrets in it. */
export const debugContextSchema = z.record(z.string(), z.unknown());

/** `{commands?, error?, debugContext?}` with the type's own command schema; nothing else at the top level. */
export function inlineResponseSchema<C extends z.ZodType>(command: C) {
  return z.strictObject({
    commands: z.array(command).optional(),
    error: inlineErrorSchema.optional(),
    debugContext: debugContextSchema.optional(),
  });
}

export interface InlineResponse<C> {
  commands?: C[];
  error?: InlineError;
  debugContext?: Record<string, unknown>;
}

/**
 * True when the response says nothing: Okta wants an empty 204 for that
 * (https://developer.okta.com/docs/concepts/inline-hooks/).
 */
export function isEmptyResponse(response: InlineResponse<unknown>): boolean {
  return (
    (response.commands === undefined || response.commands.length === 0) &&
    response.error === undefined &&
    (response.debugContext === undefined || Object.keys(response.debugContext).length === 0)
  );
}

/** `{"error":{"errorSummary":…}}`; Okta's default summary when ours is empty is "The callback service returned an error". */
export function errorResponse(errorSummary: string, errorCauses?: ErrorCause[]): { error: InlineError } {
  if (errorSummary.trim() === "") throw new InlineCommandError("errorSummary must not be empty");
  return { error: errorCauses ? { errorSummary, errorCauses } : { errorSummary } };
}

// ---- JSON Pointer (RFC 6901), as Okta uses it in patch paths ----

export type PointerSegment = string | number;

/** `~` → `~0`, `/` → `~1` (Okta: claim names containing `/`, e.g. URI-named SAML attributes). */
export function escapePointerSegment(segment: PointerSegment): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function unescapePointerSegment(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

export function toPointer(segments: readonly PointerSegment[]): string {
  return segments.map((s) => `/${escapePointerSegment(s)}`).join("");
}

/** The unescaped segments of a pointer, or null when it is not one (must start with "/", "~" only as ~0/~1). */
export function parsePointer(pointer: string): string[] | null {
  if (!pointer.startsWith("/")) return null;
  const raw = pointer.slice(1).split("/");
  if (raw.some((s) => /~(?![01])/.test(s))) return null;
  return raw.map(unescapePointerSegment);
}

/** A path given as a claim name or as segments; segments are checked to be non-empty. */
export function pathSegments(path: string | readonly PointerSegment[], what: string): PointerSegment[] {
  const segments = typeof path === "string" ? [path] : [...path];
  if (segments.length === 0) throw new InlineCommandError(`${what}: the path is empty`);
  for (const s of segments) {
    if (typeof s === "string" && s === "") throw new InlineCommandError(`${what}: a path segment is empty`);
    if (typeof s === "number" && !(Number.isInteger(s) && s >= 0)) {
      throw new InlineCommandError(`${what}: array index ${s} is not a non-negative integer`);
    }
  }
  return segments;
}

const encoder = new TextEncoder();

/** Bytes of the response as sent (UTF-8 JSON). */
export function responseBytes(body: unknown): number {
  return encoder.encode(JSON.stringify(body)).byteLength;
}

/**
 * True when the response as sent reaches MAX_RESPONSE_BYTES. A UTF-8 byte is at most 3 per UTF-16 unit, so a short
 * text is known to fit without encoding it.
 */
export function isResponseTooLarge(body: unknown): boolean {
  const text = JSON.stringify(body);
  return text.length * 3 >= MAX_RESPONSE_BYTES && encoder.encode(text).byteLength >= MAX_RESPONSE_BYTES;
}
