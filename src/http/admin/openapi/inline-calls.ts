/** The OpenAPI description of /admin/api/inline-calls (src/http/admin/inline-calls.ts; docs/inline-hooks.md). */
import * as z from "zod";
import { INLINE_HOOK_TYPES, type InlineHookType } from "../../../okta/inline/common";
import type { inlineCallView } from "../inline-calls";
import { FALLBACK_REASONS, inlineCallSearchQuerySchema, MAX_INLINE_CALLS_PAGE } from "../inline-calls-input";
import { count, isoTime, nextCursor } from "./common";
import type { Assert, RouteDescription, Same } from "./describe";

export const inlineHookType = z.enum(INLINE_HOOK_TYPES as [InlineHookType, ...InlineHookType[]]).describe("The inline hook type (its route, /hooks/inline/{type}).");

export const inlineCall = z
  .object({
    type: inlineHookType,
    receivedAt: isoTime,
    requestType: z.string().nullable().describe("Okta's `requestType`, where the type has one."),
    oktaRequestId: z.string().nullable().describe("Okta's `x-okta-request-id`."),
    eventId: z.string().nullable().describe("The request body's `eventId`."),
    decision: z.string().describe("The action answered (DENY, ALLOW, VERIFIED, SUCCESSFUL, LINK_USER…), or `patch`, `update`, `error`, `empty`, `debug`."),
    decidedBy: z.string().describe("`rules:<id>,…`, `handler`, `default`, `fallback`, or `repeat:<the first answer's decidedBy>` for an Okta retry."),
    fallbackReason: z.string().nullable().describe(`Why the fallback answer was sent (${FALLBACK_REASONS.join(", ")}); null when it was not.`),
    commands: z.array(z.string()).describe("One line per command or patch operation: type, op, path, attribute names — never a value."),
    status: count.describe("The HTTP status answered to Okta."),
    latencyMs: count.describe("From the request's arrival to the answer."),
  })
  .meta({ id: "InlineCall", description: "One inline hook call as the audit keeps it: the shape of the decision, never a password, OTP, token or claim value." });
export type InlineCallDescribed = Assert<Same<z.output<typeof inlineCall>, ReturnType<typeof inlineCallView>>>;

export const inlineCallRouteDescriptions: RouteDescription[] = [
  {
    method: "get",
    path: "/admin/api/inline-calls",
    operationId: "searchInlineCalls",
    tag: "Inline hook calls",
    summary: "Search inline hook calls",
    description:
      "Newest first (by audit row, then by call; rows written by different isolates in the same second or two may interleave), filters combined with AND. Each page reads a bounded number of D1 rows and judges decision, decided-by and fallback reason on the calls read, so a page may be short — even empty — while more match: follow `nextCursor` until it is null.",
    query: {
      schema: inlineCallSearchQuerySchema,
      descriptions: {
        type: `One inline hook type: ${INLINE_HOOK_TYPES.join(", ")}.`,
        decision: "The decision, case-insensitive (`DENY`, `ALLOW`, `VERIFIED`, `patch`, `error`, `empty`…).",
        decidedBy: "`decidedBy` exactly (`handler`, `default`, `fallback`, `rules:<id>`), or a prefix ending in `*` or `:` (`rules:*`, `repeat:`).",
        fallbackReason: `Only fallbacks for this reason: ${FALLBACK_REASONS.join(", ")}.`,
        since: "ISO 8601 date-time with a time zone; inclusive (the call's arrival).",
        until: "ISO 8601 date-time with a time zone; exclusive.",
        limit: `Page size, 1–${MAX_INLINE_CALLS_PAGE} (default 50).`,
        cursor: "The previous page's `nextCursor`.",
      },
    },
    responses: {
      200: { description: "A page of calls.", schema: z.object({ calls: z.array(inlineCall), nextCursor }).meta({ id: "InlineCallPage" }) },
    },
  },
];
