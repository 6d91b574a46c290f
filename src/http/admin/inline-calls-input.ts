/**
 * What the inline hook call search accepts (GET /admin/api/inline-calls), as a strict zod schema: an unknown or
 * repeated parameter, or a bad value, is a 400 `invalid_query` naming it (src/http/validated-query.ts). Type and
 * time narrow the rows read (the index); decision, decided-by and fallback reason are judged on each decoded call
 * (`toCallMatch`), inside the same bounded read.
 */
import * as z from "zod";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../okta/inline/common";
import { decodeInlineCallCursor, type InlineCallCursor, type InlineCallRecord } from "../../storage/inline-calls";
import type { FallbackReason } from "../../usecases/inline/decide";
import { isoInstant } from "./events-input";

/** Every reason a call can fall back for (src/usecases/inline/decide.ts); the type check keeps the two lists equal. */
export const FALLBACK_REASONS = ["deadline", "handler_error", "rule_error", "invalid_response", "response_too_large"] as const satisfies readonly FallbackReason[];
const everyReasonListed: [Exclude<FallbackReason, (typeof FALLBACK_REASONS)[number]>] extends [never] ? true : false = true;
void everyReasonListed;

/** Largest page of the search (each call is ~300 bytes of JSON). */
export const MAX_INLINE_CALLS_PAGE = 200;

const pageLimit = z
  .string()
  .regex(/^\d{1,3}$/, `must be an integer from 1 to ${MAX_INLINE_CALLS_PAGE}`)
  .transform(Number)
  .pipe(z.number().int().min(1, `must be an integer from 1 to ${MAX_INLINE_CALLS_PAGE}`).max(MAX_INLINE_CALLS_PAGE, `must be an integer from 1 to ${MAX_INLINE_CALLS_PAGE}`));

/** A decision as the audit words it: an Okta action (DENY, VERIFIED, SUCCESSFUL…) or patch, update, error, empty. */
const decision = z.string().regex(/^[A-Za-z0-9_.,-]{1,64}$/, "must be a decision such as DENY, ALLOW, VERIFIED, patch, error or empty");

/**
 * `decidedBy` exactly (`handler`, `default`, `fallback`, `rules:<id>`) or, ending in `*` or `:`, a prefix:
 * `rules:*` and `rules:` both match every rules decision, `repeat:*` every answer repeated for an Okta retry.
 */
const decidedBy = z
  .string()
  .regex(/^[A-Za-z0-9_.,:-]{1,256}\*?$/, 'must be a decidedBy value ("handler", "default", "fallback", "rules:<id>") or a prefix ending in * or : ("rules:*")')
  .transform((text) => (text.endsWith("*") ? { prefix: text.slice(0, -1) } : text.endsWith(":") ? { prefix: text } : { exact: text }));

export const inlineCallSearchQuerySchema = z
  .strictObject({
    type: z.enum(INLINE_HOOK_TYPES as [InlineHookType, ...InlineHookType[]], { error: `must be one of ${INLINE_HOOK_TYPES.join(", ")}` }).optional(),
    decision: decision.optional(),
    decidedBy: decidedBy.optional(),
    fallbackReason: z.enum(FALLBACK_REASONS, { error: `must be one of ${FALLBACK_REASONS.join(", ")}` }).optional(),
    since: isoInstant.optional(),
    until: isoInstant.optional(),
    limit: pageLimit.default(50),
    cursor: z
      .string()
      .max(64, "must be a nextCursor value from a previous page")
      .transform((text, ctx): InlineCallCursor => {
        const cursor = decodeInlineCallCursor(text);
        if (cursor === null) {
          ctx.addIssue({ code: "custom", message: "must be a nextCursor value from a previous page" });
          return z.NEVER;
        }
        return cursor;
      })
      .optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, { message: "must be after since", path: ["until"] });
export type InlineCallSearchQuery = z.infer<typeof inlineCallSearchQuerySchema>;

/** The query's per-call filters as one predicate; undefined when there are none (every call of the rows read). */
export function toCallMatch(q: Pick<InlineCallSearchQuery, "decision" | "decidedBy" | "fallbackReason">): ((call: InlineCallRecord) => boolean) | undefined {
  const tests: Array<(call: InlineCallRecord) => boolean> = [];
  if (q.decision !== undefined) {
    const wanted = q.decision.toLowerCase();
    tests.push((call) => call.decision.toLowerCase() === wanted);
  }
  const prefix = q.decidedBy?.prefix;
  const exact = q.decidedBy?.exact;
  if (prefix !== undefined) tests.push((call) => call.decidedBy.startsWith(prefix));
  if (exact !== undefined) tests.push((call) => call.decidedBy === exact);
  const reason = q.fallbackReason;
  if (reason !== undefined) tests.push((call) => call.fallbackReason === reason);
  if (tests.length === 0) return undefined;
  return (call) => tests.every((test) => test(call));
}
