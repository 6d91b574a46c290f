/**
 * Telephony inline hook, `com.okta.telephony.provider`
 * (https://developer.okta.com/docs/guides/telephony-inline-hook/nodejs/main/;
 * Okta's management OpenAPI spec, `TelephonyResponse`).
 *
 * The request carries the OTP (`data.messageProfile.otpCode`, also inside `msgTemplate`) and a phone number:
 * read by the decision only, never logged or stored. The answer is
 * `com.okta.telephony.action` with one `{status: SUCCESSFUL|PENDING|FAILED, provider?, transactionId?,
 * transactionMetadata?}`. There is no "empty" telephony answer: without a provider we say FAILED, so Okta
 * fails over to its own providers (an error object or a timeout does the same, but may cost a second message).
 */
import * as z from "zod";
import { InlineCommandError, contextRequestSchema, inlineRequestSchema, inlineResponseSchema, type InlineResponse } from "./common";

export const TELEPHONY_EVENT_TYPE = "com.okta.telephony.provider";
export const TELEPHONY_STATUSES = ["SUCCESSFUL", "PENDING", "FAILED"] as const;
export type TelephonyStatus = (typeof TELEPHONY_STATUSES)[number];

const stringish = z.union([z.string(), z.number()]).nullish();

export const telephonyHookRequestSchema = inlineRequestSchema(
  TELEPHONY_EVENT_TYPE,
  z.looseObject({
    context: z.looseObject({ request: contextRequestSchema }).nullish(),
    userProfile: z.looseObject({ login: z.string().nullish(), userId: z.string().nullish() }).nullish(),
    messageProfile: z.looseObject({
      msgTemplate: z.string().nullish(),
      // The OpenAPI spec's example has these as numbers (unquoted YAML); the docs as strings.
      phoneNumber: stringish,
      otpCode: stringish,
      otpExpires: z.string().nullish(),
      deliveryChannel: z.string().nullish(),
      locale: z.string().nullish(),
    }),
  }),
).extend({ requestType: z.string().nullish() });
export type TelephonyHookRequest = z.infer<typeof telephonyHookRequestSchema>;

const actionSchema = z.strictObject({
  status: z.enum(TELEPHONY_STATUSES),
  provider: z.string().optional(),
  transactionId: z.string().optional(),
  transactionMetadata: z.string().optional(),
});
export const telephonyCommandSchema = z.strictObject({
  type: z.literal("com.okta.telephony.action"),
  value: z.array(actionSchema).length(1),
});
export type TelephonyCommand = z.infer<typeof telephonyCommandSchema>;
export const telephonyHookResponseSchema = inlineResponseSchema(telephonyCommandSchema);
export type TelephonyHookResponse = InlineResponse<TelephonyCommand>;

export interface TelephonyResult {
  provider?: string;
  transactionId?: string;
  transactionMetadata?: string;
}

export function telephonyAction(status: TelephonyStatus, result: TelephonyResult = {}): TelephonyHookResponse {
  if (!TELEPHONY_STATUSES.includes(status)) {
    throw new InlineCommandError(`telephony status must be one of ${TELEPHONY_STATUSES.join(", ")}, got "${String(status)}"`);
  }
  const value: z.infer<typeof actionSchema> = { status };
  for (const key of ["provider", "transactionId", "transactionMetadata"] as const) {
    const v = result[key];
    if (v !== undefined) value[key] = v;
  }
  return { commands: [{ type: "com.okta.telephony.action", value: [value] }] };
}

/**
 * FAILED: Okta sends the OTP through its own providers
 * (https://developer.okta.com/docs/guides/telephony-inline-hook/nodejs/main/, "Failover").
 */
export function telephonyFailed(reason?: string): TelephonyHookResponse {
  return telephonyAction("FAILED", reason ? { transactionMetadata: reason } : {});
}
