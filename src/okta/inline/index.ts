/**
 * The six inline hook types side by side: request schema, response schema and the request/response types, so
 * routes, rules and handlers look a type up in one place. Builders are exported from each type's module.
 */
import type * as z from "zod";
import { INLINE_HOOK_EVENT_TYPES, type InlineHookType } from "./common";
import { passwordImportHookRequestSchema, passwordImportHookResponseSchema, type PasswordImportHookResponse } from "./password-import";
import { registrationHookRequestSchema, registrationHookResponseSchema, type RegistrationHookResponse } from "./registration";
import { samlHookRequestSchema, samlHookResponseSchema, type SamlHookResponse } from "./saml";
import { telephonyHookRequestSchema, telephonyHookResponseSchema, type TelephonyHookResponse } from "./telephony";
import { tokenHookRequestSchema, tokenHookResponseSchema, type TokenHookResponse } from "./token";
import { userImportHookRequestSchema, userImportHookResponseSchema, type UserImportHookResponse } from "./user-import";

export * from "./common";

export const INLINE_HOOK_SCHEMAS = {
  token: { request: tokenHookRequestSchema, response: tokenHookResponseSchema },
  registration: { request: registrationHookRequestSchema, response: registrationHookResponseSchema },
  "password-import": { request: passwordImportHookRequestSchema, response: passwordImportHookResponseSchema },
  saml: { request: samlHookRequestSchema, response: samlHookResponseSchema },
  "user-import": { request: userImportHookRequestSchema, response: userImportHookResponseSchema },
  telephony: { request: telephonyHookRequestSchema, response: telephonyHookResponseSchema },
} as const satisfies Record<InlineHookType, { request: z.ZodType; response: z.ZodType }>;

export type InlineHookRequest<T extends InlineHookType> = z.infer<(typeof INLINE_HOOK_SCHEMAS)[T]["request"]>;

export interface InlineHookResponses {
  token: TokenHookResponse;
  registration: RegistrationHookResponse;
  "password-import": PasswordImportHookResponse;
  saml: SamlHookResponse;
  "user-import": UserImportHookResponse;
  telephony: TelephonyHookResponse;
}
export type InlineHookResponse<T extends InlineHookType> = InlineHookResponses[T];

export function eventTypeOf(type: InlineHookType): string {
  return INLINE_HOOK_EVENT_TYPES[type];
}
