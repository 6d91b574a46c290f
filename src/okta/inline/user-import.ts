/**
 * User import inline hook, `com.okta.import.transform`
 * (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/;
 * Okta's management OpenAPI spec, `UserImport*`).
 *
 * Commands: `com.okta.appUser.profile.update`, `com.okta.user.profile.update` (attribute maps),
 * `com.okta.action.update {"result": "CREATE_USER"|"LINK_USER"}` and `com.okta.user.update {"id"}`, which
 * LINK_USER requires (and which means nothing without it). Empty decision: 204 (docs: `{}` or 204 keep the
 * default action; we send 204 like the other types).
 */
import * as z from "zod";
import { InlineCommandError, inlineRequestSchema, inlineResponseSchema, jsonRecord, type InlineResponse } from "./common";

export const USER_IMPORT_EVENT_TYPE = "com.okta.import.transform";

export const userImportHookRequestSchema = inlineRequestSchema(
  USER_IMPORT_EVENT_TYPE,
  z.looseObject({
    context: z.looseObject({
      conflicts: z.array(z.unknown()).nullish(),
      application: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
      job: z.looseObject({ id: z.string().nullish() }).nullish(),
      matches: z.array(z.unknown()).nullish(),
      policy: z.array(z.unknown()).nullish(),
    }),
    action: z.looseObject({ result: z.string().nullish() }).nullish(),
    appUser: z.looseObject({ profile: jsonRecord.nullish() }).nullish(),
    user: z.looseObject({ id: z.string().nullish(), profile: jsonRecord.nullish() }).nullish(),
  }),
);
export type UserImportHookRequest = z.infer<typeof userImportHookRequestSchema>;

const attributeMap = z
  .record(z.string().min(1), z.unknown())
  .refine((m) => Object.keys(m).length > 0, "must set at least one attribute");

export const userImportCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("com.okta.appUser.profile.update"), value: attributeMap }),
  z.strictObject({ type: z.literal("com.okta.user.profile.update"), value: attributeMap }),
  z.strictObject({
    type: z.literal("com.okta.action.update"),
    value: z.strictObject({ result: z.enum(["CREATE_USER", "LINK_USER"]) }),
  }),
  z.strictObject({ type: z.literal("com.okta.user.update"), value: z.strictObject({ id: z.string().min(1) }) }),
]);
export type UserImportCommand = z.infer<typeof userImportCommandSchema>;
export const userImportHookResponseSchema = inlineResponseSchema(userImportCommandSchema).superRefine((r, ctx) => {
  const commands = r.commands ?? [];
  const links = commands.some((c) => c.type === "com.okta.action.update" && c.value.result === "LINK_USER");
  const userUpdate = commands.some((c) => c.type === "com.okta.user.update");
  if (links && !userUpdate) {
    ctx.addIssue({ code: "custom", path: ["commands"], message: "LINK_USER needs a com.okta.user.update {id} command" });
  }
  if (userUpdate && !links) {
    ctx.addIssue({ code: "custom", path: ["commands"], message: "com.okta.user.update {id} only goes with LINK_USER" });
  }
});
export type UserImportHookResponse = InlineResponse<UserImportCommand>;

function attributes(map: Record<string, unknown>, what: string): Record<string, unknown> {
  if (Object.keys(map).length === 0) throw new InlineCommandError(`${what}: set at least one attribute`);
  return { ...map };
}

export function updateAppUserProfile(map: Record<string, unknown>): UserImportCommand {
  return { type: "com.okta.appUser.profile.update", value: attributes(map, "updateAppUserProfile") };
}
export function updateImportedUserProfile(map: Record<string, unknown>): UserImportCommand {
  return { type: "com.okta.user.profile.update", value: attributes(map, "updateImportedUserProfile") };
}
export function createUser(): UserImportCommand {
  return { type: "com.okta.action.update", value: { result: "CREATE_USER" } };
}

/** LINK_USER with the Okta user to link to: always the pair of commands Okta requires. */
export function linkUser(oktaUserId: string): UserImportCommand[] {
  if (!oktaUserId || oktaUserId.trim() === "") {
    throw new InlineCommandError("LINK_USER needs the id of the Okta user to link (com.okta.user.update {id})");
  }
  return [
    { type: "com.okta.action.update", value: { result: "LINK_USER" } },
    { type: "com.okta.user.update", value: { id: oktaUserId } },
  ];
}
