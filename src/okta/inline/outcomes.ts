/**
 * Per-type default and fallback answers, and the audit summary of a response (each type's guide says what Okta does on
 * a timeout or an error; https://developer.okta.com/docs/concepts/inline-hooks/).
 *
 * Default (no rule applied, no handler decided): an empty answer (204) for token, registration, SAML and user
 * import — Okta then carries on unchanged; explicit UNVERIFIED for password import (the legacy credential store
 * comes later) and FAILED for telephony (no SMS provider yet; Okta fails over to its own).
 *
 * Fallback (a handler or lookup threw, ran past the deadline, or produced an invalid response): "open" behaves as
 * if the hook were absent, "closed" refuses. Password import and telephony have a single safe answer each.
 *
 * Pure domain code.
 */
import { errorResponse, isEmptyResponse, type InlineHookType, type InlineResponse } from "./common";
import type { InlineHookResponses } from "./index";
import { credentialUnverified } from "./password-import";
import { denyRegistrationResponse } from "./registration";
import { telephonyFailed } from "./telephony";

/** What to answer when a handler or lookup fails or runs late: "open" as if the hook were absent, "closed" refuse. */
export type FallbackMode = "open" | "closed";

export const FALLBACK_ERROR_SUMMARY = "The hook service could not decide in time; please try again.";
export const REGISTRATION_FALLBACK_SUMMARY = "Registration cannot be completed at this time. Please try again later.";

export function defaultResponse<T extends InlineHookType>(type: T): InlineHookResponses[T] {
  switch (type) {
    case "password-import":
      return credentialUnverified() as InlineHookResponses[T];
    case "telephony":
      return telephonyFailed() as InlineHookResponses[T];
    default:
      return {} as InlineHookResponses[T];
  }
}

export function fallbackResponse<T extends InlineHookType>(type: T, mode: FallbackMode): InlineHookResponses[T] {
  if (type === "password-import" || type === "telephony") return defaultResponse(type);
  if (mode === "open") return {} as InlineHookResponses[T];
  if (type === "registration") return denyRegistrationResponse(REGISTRATION_FALLBACK_SUMMARY) as InlineHookResponses[T];
  return errorResponse(FALLBACK_ERROR_SUMMARY) as InlineHookResponses[T];
}

export interface ResponseSummary {
  /** One word: the action taken (DENY, VERIFIED, LINK_USER, SUCCESSFUL…), "patch", "update", "error" or "empty". */
  decision: string;
  /** One line per command or patch op: type, op, path, attribute NAMES — never a value. */
  commands: string[];
}

type AnyCommand = { type: string; value: unknown };

export function summarizeResponse(response: InlineResponse<AnyCommand>): ResponseSummary {
  const commands: string[] = [];
  let action: string | undefined;
  let kind: "patch" | "update" | undefined;
  for (const command of response.commands ?? []) {
    const value = command.value;
    if (command.type === "com.okta.action.update" && value && typeof value === "object") {
      action ??= Object.values(value).map(String).join(",");
      commands.push(`${command.type} ${action}`);
    } else if (command.type === "com.okta.telephony.action" && Array.isArray(value)) {
      const status = String((value[0] as { status?: unknown } | undefined)?.status);
      action ??= status;
      commands.push(`${command.type} ${status}`);
    } else if (Array.isArray(value)) {
      kind ??= "patch";
      for (const op of value as Array<{ op?: unknown; path?: unknown }>) commands.push(`${command.type} ${String(op.op)} ${String(op.path)}`);
    } else if (command.type === "com.okta.user.update") {
      commands.push(command.type);
    } else if (value && typeof value === "object") {
      kind ??= "update";
      commands.push(`${command.type} ${Object.keys(value).join(",")}`);
    } else {
      commands.push(command.type);
    }
  }
  const decision =
    action ?? (response.error !== undefined ? "error" : kind ?? (isEmptyResponse(response) ? "empty" : "debug"));
  return { decision, commands };
}
