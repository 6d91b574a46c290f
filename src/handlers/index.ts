/**
 * THE place a team adds TypeScript inline hook handlers: one per type, registered below.
 *
 *   // src/handlers/token.ts
 *   export const tokenHandler: InlineHookHandler<"token"> = async (request, ctx) => { … };
 *   // here:
 *   export const inlineHookHandlers: InlineHookHandlers = { token: tokenHandler };
 *
 * A type without a handler is decided by the rules (admin API /admin/api/rules), else by its default:
 * empty (Okta carries on) for token, registration, SAML and user import; UNVERIFIED for password import;
 * FAILED for telephony (Okta then sends the OTP itself). Examples per type: docs/inline-hooks.md.
 */
import type { InlineHookHandlers } from "./types";

export type { InlineHookContext, InlineHookHandler, InlineHookHandlers } from "./types";

export const inlineHookHandlers: InlineHookHandlers = {};
