/**
 * Password import inline hook, `com.okta.user.credential.password.import`
 * (https://developer.okta.com/docs/guides/password-import-inline-hook/nodejs/main/).
 *
 * The request carries the password the user typed (`data.context.credential.password`): it is read by the
 * decision and nothing else — never logged, stored, or echoed. The one command is
 * `com.okta.action.update {"credential": "VERIFIED"|"UNVERIFIED"}`; a 204 means Okta's default, which rejects
 * the sign-in (UNVERIFIED). We always answer explicitly, so the System Log shows what we decided.
 */
import * as z from "zod";
import { contextRequestSchema, inlineRequestSchema, inlineResponseSchema, type InlineResponse } from "./common";

export const PASSWORD_IMPORT_EVENT_TYPE = "com.okta.user.credential.password.import";

export const passwordImportHookRequestSchema = inlineRequestSchema(
  PASSWORD_IMPORT_EVENT_TYPE,
  z.looseObject({
    context: z.looseObject({
      request: contextRequestSchema,
      credential: z.looseObject({ username: z.string(), password: z.string() }),
    }),
    action: z.looseObject({ credential: z.string().nullish() }).nullish(),
  }),
);
export type PasswordImportHookRequest = z.infer<typeof passwordImportHookRequestSchema>;

export const passwordImportCommandSchema = z.strictObject({
  type: z.literal("com.okta.action.update"),
  value: z.strictObject({ credential: z.enum(["VERIFIED", "UNVERIFIED"]) }),
});
export type PasswordImportCommand = z.infer<typeof passwordImportCommandSchema>;
export const passwordImportHookResponseSchema = inlineResponseSchema(passwordImportCommandSchema);
export type PasswordImportHookResponse = InlineResponse<PasswordImportCommand>;

export function credentialVerified(): PasswordImportHookResponse {
  return { commands: [{ type: "com.okta.action.update", value: { credential: "VERIFIED" } }] };
}

export function credentialUnverified(): PasswordImportHookResponse {
  return { commands: [{ type: "com.okta.action.update", value: { credential: "UNVERIFIED" } }] };
}
