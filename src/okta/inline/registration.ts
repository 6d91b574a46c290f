/**
 * Registration inline hook, `com.okta.user.pre-registration`
 * (https://developer.okta.com/docs/guides/registration-inline-hook/nodejs/main/;
 * Okta's management OpenAPI spec, `RegistrationResponse`).
 *
 * Two request types: self-service registration (`self.service.registration`; Classic Engine sends no
 * requestType in a captured production request, test/fixtures/okta/SOURCES.md) and progressive profiling
 * (`progressive.profile`, Identity Engine). Commands:
 * `com.okta.user.profile.update` (SSR only), `com.okta.user.progressive.profile.update` (progressive only) and
 * `com.okta.action.update {"registration": "ALLOW"|"DENY"}` (the OpenAPI spec examples' `com.action.update` is a typo
 * we never send). Field-level errors use `location: data.userProfile.<attr>`, which the Sign-In Widget shows inline.
 * Empty decision: 204, "allow registration to proceed without any update" (Okta's management OpenAPI spec).
 */
import * as z from "zod";
import {
  InlineCommandError,
  contextRequestSchema,
  inlineRequestSchema,
  inlineResponseSchema,
  jsonRecord,
  type ErrorCause,
  type InlineError,
  type InlineResponse,
} from "./common";

export const REGISTRATION_EVENT_TYPE = "com.okta.user.pre-registration";
export const SELF_SERVICE_REGISTRATION = "self.service.registration";
export const PROGRESSIVE_PROFILE = "progressive.profile";

export const registrationHookRequestSchema = inlineRequestSchema(
  REGISTRATION_EVENT_TYPE,
  z.looseObject({
    context: z.looseObject({
      request: contextRequestSchema,
      user: z.looseObject({ id: z.string().nullish(), profile: jsonRecord.nullish() }).nullish(),
    }),
    userProfile: jsonRecord.nullish(),
    userProfileUpdate: jsonRecord.nullish(),
    action: z.string().nullish(),
  }),
).extend({ requestType: z.string().nullish() });
export type RegistrationHookRequest = z.infer<typeof registrationHookRequestSchema>;

export type RegistrationRequestKind = "self-service" | "progressive";

/** Classic Engine sends no requestType: that is self-service registration too. */
export function registrationRequestKind(request: Pick<RegistrationHookRequest, "requestType">): RegistrationRequestKind {
  return request.requestType === PROGRESSIVE_PROFILE ? "progressive" : "self-service";
}

/** The attributes this registration is about: the new profile (SSR) or the submitted changes (progressive). */
export function submittedAttributes(request: RegistrationHookRequest): Record<string, unknown> {
  return registrationRequestKind(request) === "progressive"
    ? { ...request.data.context.user?.profile, ...request.data.userProfileUpdate }
    : { ...request.data.userProfile };
}

const attributeMap = z
  .record(z.string().min(1), z.unknown())
  .refine((m) => Object.keys(m).length > 0, "must set at least one attribute")
  .refine((m) => !("password" in m), "cannot set password");

export const registrationCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("com.okta.user.profile.update"), value: attributeMap }),
  z.strictObject({ type: z.literal("com.okta.user.progressive.profile.update"), value: attributeMap }),
  z.strictObject({
    type: z.literal("com.okta.action.update"),
    value: z.strictObject({ registration: z.enum(["ALLOW", "DENY"]) }),
  }),
]);
export type RegistrationCommand = z.infer<typeof registrationCommandSchema>;
export const registrationHookResponseSchema = inlineResponseSchema(registrationCommandSchema);
export type RegistrationHookResponse = InlineResponse<RegistrationCommand>;

function checkAttributes(attributes: Record<string, unknown>, what: string): Record<string, unknown> {
  const keys = Object.keys(attributes);
  if (keys.length === 0) throw new InlineCommandError(`${what}: set at least one attribute`);
  if (keys.includes("password")) throw new InlineCommandError(`${what}: a registration hook cannot set the password`);
  if (keys.some((k) => k === "")) throw new InlineCommandError(`${what}: an attribute name is empty`);
  return { ...attributes };
}

/** `com.okta.user.profile.update`: only for self-service registration (pass the request to have it checked). */
export function updateProfile(attributes: Record<string, unknown>, request?: RegistrationHookRequest): RegistrationCommand {
  if (request && registrationRequestKind(request) !== "self-service") {
    throw new InlineCommandError(
      "com.okta.user.profile.update only applies to self-service registration; use updateProgressiveProfile for progressive.profile",
    );
  }
  return { type: "com.okta.user.profile.update", value: checkAttributes(attributes, "updateProfile") };
}

/** `com.okta.user.progressive.profile.update`: only for progressive profiling. */
export function updateProgressiveProfile(
  attributes: Record<string, unknown>,
  request?: RegistrationHookRequest,
): RegistrationCommand {
  if (request && registrationRequestKind(request) !== "progressive") {
    throw new InlineCommandError(
      "com.okta.user.progressive.profile.update only applies to progressive.profile requests; use updateProfile for registration",
    );
  }
  return { type: "com.okta.user.progressive.profile.update", value: checkAttributes(attributes, "updateProgressiveProfile") };
}

export function allowRegistration(): RegistrationCommand {
  return { type: "com.okta.action.update", value: { registration: "ALLOW" } };
}

export function denyRegistration(): RegistrationCommand {
  return { type: "com.okta.action.update", value: { registration: "DENY" } };
}

/** An error cause the Sign-In Widget shows beside the form field `attribute`. */
export function fieldError(attribute: string, errorSummary: string, reason?: string): ErrorCause {
  if (attribute === "" || errorSummary.trim() === "") {
    throw new InlineCommandError("fieldError needs an attribute name and a message");
  }
  return {
    errorSummary,
    ...(reason ? { reason } : {}),
    locationType: "body",
    location: `data.userProfile.${attribute}`,
    domain: "end-user",
  };
}

/**
 * DENY with an error: the widget shows `errorSummary` and each field's message
 * (https://developer.okta.com/docs/guides/registration-inline-hook/nodejs/main/).
 */
export function denyRegistrationResponse(errorSummary: string, causes: ErrorCause[] = []): RegistrationHookResponse {
  if (errorSummary.trim() === "") throw new InlineCommandError("errorSummary must not be empty");
  const error: InlineError = causes.length > 0 ? { errorSummary, errorCauses: causes } : { errorSummary };
  return { commands: [denyRegistration()], error };
}
