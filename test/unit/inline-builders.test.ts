/**
 * The command builders and response schemas against Okta's documented responses (test/fixtures/okta):
 * every documented response is either produced exactly by the builders or accepted by our response schema, and
 * the known-defective examples (test/fixtures/okta/SOURCES.md) are rejected. Then what the builders must refuse (each
 * type's Okta guide; https://developer.okta.com/docs/concepts/inline-hooks/).
 */
import { describe, expect, it } from "vitest";
import {
  MAX_RESPONSE_BYTES,
  errorResponse,
  escapePointerSegment,
  InlineCommandError,
  isResponseTooLarge,
  parsePointer,
  responseBytes,
} from "../../src/okta/inline/common";
import { INLINE_HOOK_SCHEMAS } from "../../src/okta/inline/index";
import { credentialUnverified, credentialVerified } from "../../src/okta/inline/password-import";
import {
  denyRegistration,
  denyRegistrationResponse,
  fieldError,
  registrationHookRequestSchema,
  updateProfile,
  updateProgressiveProfile,
} from "../../src/okta/inline/registration";
import {
  NAME_FORMAT_BASIC,
  assertionPatch,
  samlAdd,
  samlAddAttribute,
  samlRemove,
  samlReplace,
  samlSessionLifetime,
} from "../../src/okta/inline/saml";
import { telephonyAction } from "../../src/okta/inline/telephony";
import {
  accessPatch,
  addClaim,
  identityPatch,
  removeClaim,
  replaceClaim,
  setTokenLifetime,
  tokenHookRequestSchema,
} from "../../src/okta/inline/token";
import { createUser, linkUser, updateAppUserProfile, updateImportedUserProfile, userImportHookResponseSchema } from "../../src/okta/inline/user-import";
import { fixture, responseFixtures } from "../helpers/fixtures";

const GUID = "F0384685-F87D-474B-848D-2058AC5655A7";
const FOO = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/foo";
const BAR = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/bar";

/** Documented responses the builders reproduce exactly. */
const built: Record<string, () => unknown> = {
  "token-hook.response.add-claims.json": () => ({
    commands: [identityPatch([addClaim("extPatientId", "1234")]), accessPatch([addClaim("external_guid", GUID)])],
  }),
  "token-hook.response.add-object-member.json": () => ({ commands: [identityPatch([addClaim(["employee_profile", "department_id"], "4947")])] }),
  "token-hook.response.add-array-element-by-index.json": () => ({ commands: [identityPatch([addClaim(["preferred_airports", 3], "lax")])] }),
  "token-hook.response.add-array-element-append-dash.json": () => ({ commands: [identityPatch([addClaim(["preferred_airports", "-"], "lax")])] }),
  "token-hook.response.replace-claims.json": () => ({
    commands: [identityPatch([replaceClaim("extPatientId", "1234")]), accessPatch([replaceClaim("external_guid", GUID)])],
  }),
  "token-hook.response.replace-object-member.json": () => ({
    commands: [identityPatch([replaceClaim(["employee_profile", "email"], "anna@company.com")])],
  }),
  "token-hook.response.modify-lifetime.json": () => ({
    commands: [identityPatch([setTokenLifetime(36000)]), accessPatch([setTokenLifetime(36000)])],
  }),
  "token-hook.response.remove-array-element.json": () => ({ commands: [identityPatch([removeClaim(["preferred_airports", 1])])] }),
  "token-hook.response.error.json": () => errorResponse("Human-readable summary of the error"),
  "openapi/token-hook.response.TokenHookRemoveFromObject.json": () => ({ commands: [identityPatch([removeClaim(["employee_profile", "email"])])] }),
  "openapi/token-hook.response.TokenHookReplaceExisting.json": () => ({
    commands: [identityPatch([replaceClaim("extPatientId", "1234"), replaceClaim("external_guid", GUID)])],
  }),
  "registration-hook.response.deny.minimal.json": () => ({ commands: [denyRegistration()] }),
  "registration-hook.response.profile-update.multi-attribute.json": () => ({
    commands: [updateProfile({ middleName: "Danger", customerId: 12345 })],
  }),
  "registration-hook.response.profile-update.two-commands.json": () => ({
    commands: [updateProfile({ middleName: "Danger" }), updateProfile({ customerId: 12345 })],
  }),
  "registration-hook.response.ssr.profile-update.json": () => ({ commands: [updateProfile({ login: "first.last@example.com" })] }),
  "registration-hook.response.ssr.deny-with-error.json": () =>
    denyRegistrationResponse("Incorrect email address. Please contact your admin.", [
      fieldError("email", "Only example.com emails can register.", "INVALID_EMAIL_DOMAIN"),
    ]),
  "registration-hook.response.progressive-profile.update.json": () => ({ commands: [updateProgressiveProfile({ employeeNumber: "1234" })] }),
  "registration-hook.response.progressive-profile.deny-with-error.json": () =>
    denyRegistrationResponse("Incorrect employee number. Enter an employee number with 4 digits.", [
      fieldError("employeeNumber", "Only employee numbers with 4 digits can register.", "INVALID_EMPLOYEE_NUMBER"),
    ]),
  "password-import-hook.response.verified.json": credentialVerified,
  "password-import-hook.response.unverified.json": credentialUnverified,
  "saml-hook.response.json": () => ({
    commands: [
      assertionPatch([
        samlReplace(["claims", "array", "attributeValues", 1, "value"], "replacementValue"),
        samlReplace(["authentication", "authnContext"], { authnContextClassRef: "replacementValue" }),
        samlAddAttribute("extPatientId", [{ value: "4321", xsiType: "xs:string" }], NAME_FORMAT_BASIC),
        samlSessionLifetime(300),
      ]),
      assertionPatch([samlReplace(["authentication", "sessionIndex"], "definitelyARealSession")]),
    ],
  }),
  "saml-hook.response.uri-claims.json": () => ({
    commands: [
      assertionPatch([
        samlReplace(["claims", FOO, "attributeValues", 0, "value"], "replacementValue"),
        samlReplace(["claims", FOO, "attributes"], { attributes: { NameFormat: NAME_FORMAT_BASIC } }),
        samlAddAttribute(BAR, [{ value: "bearer" }], NAME_FORMAT_BASIC),
      ]),
    ],
  }),
  "user-import-hook.response.app-user-profile-update.json": () => ({ commands: [updateAppUserProfile({ firstName: "Stan", lastName: "Lee" })] }),
  "user-import-hook.response.create-user.json": () => ({ commands: [createUser()] }),
  "user-import-hook.response.link-user.json": () => ({ commands: linkUser("00garwpuyxHaWOkdV0g4") }),
  "user-import-hook.response.user-profile-update.json": () => ({ commands: [updateImportedUserProfile({ firstName: "Stan" })] }),
  "openapi/user-import-hook.response.UserImportErrorExample.json": () =>
    errorResponse("Error at third-party service. Please contact your admin."),
  "telephony-hook.response.success.json": () =>
    telephonyAction("SUCCESSFUL", { provider: "VONAGE", transactionId: "SM49a8ece2822d44e4adaccd7ed268f954", transactionMetadata: "Duration=300ms" }),
  "telephony-hook.response.failure-error.json": () =>
    errorResponse("Failed to deliver SMS OTP to test.user@okta.com", [
      { errorSummary: "Provider could not deliver OTP", reason: "The content of the message is not supported", location: "South Africa" },
    ]),
};

/** Defective examples (SOURCES.md, and two more found here) that our schemas must refuse, so we never send their like. */
const defective: Record<string, string> = {
  "openapi/registration-hook.response.ProfileEnrollmentResponse.json": "com.action.update typo",
  "openapi/registration-hook.response.ProfileEnrollmentResponseDeny.json": "com.action.update typo",
  "openapi/registration-hook.response.ProgressiveProfileResponseDeny.json": "com.action.update typo",
  "openapi/registration-hook.response.ProgressiveProfileResponse.json": "type ends in a stray quote, value is a JS expression",
  "openapi/telephony-hook.response.TelephonyFailureResponse.json": "error is an array, errorCauses an object",
  "token-hook.response.remove-object-member.json": "not a response: the docs' sample of the claim before removal",
};

describe("documented responses (Okta's examples in test/fixtures/okta)", () => {
  it("lists every response fixture as built, schema-valid or defective", () => {
    expect(responseFixtures.length).toBeGreaterThanOrEqual(45);
  });

  for (const { name, type, body } of responseFixtures) {
    const schema = INLINE_HOOK_SCHEMAS[type].response;
    if (name in defective) {
      it(`rejects ${name} (${defective[name]})`, () => {
        expect(schema.safeParse(body).success).toBe(false);
      });
      continue;
    }
    it(`accepts ${name} with the ${type} response schema`, () => {
      const result = schema.safeParse(body);
      expect(result.error?.issues ?? []).toEqual([]);
    });
    const build = built[name];
    if (build) {
      it(`builds ${name} exactly`, () => {
        expect(build()).toEqual(fixture(name));
      });
    }
  }

  it("builds every built example that exists", () => {
    const names = new Set(responseFixtures.map((f) => f.name));
    for (const name of [...Object.keys(built), ...Object.keys(defective)]) expect(names.has(name), name).toBe(true);
  });
});

const tokenRequest = tokenHookRequestSchema.parse(fixture("token-hook.request.json"));

describe("Okta's response size limit (< 256 KB as sent)", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;
  /** {"v":"…"} of exactly `bytes` bytes as sent: `char` as often as fits, then ASCII (8 bytes are the braces and key). */
  const sized = (bytes: number, char: string) => {
    const n = Math.floor((bytes - 8) / utf8(char));
    return { v: char.repeat(n) + "a".repeat(bytes - 8 - n * utf8(char)) };
  };

  it("counts UTF-8 bytes, not characters", () => {
    for (const char of ["a", "é", "€", "😀"]) {
      expect(responseBytes(sized(MAX_RESPONSE_BYTES - 1, char)), char).toBe(MAX_RESPONSE_BYTES - 1);
      expect(isResponseTooLarge(sized(MAX_RESPONSE_BYTES - 1, char)), char).toBe(false);
      expect(responseBytes(sized(MAX_RESPONSE_BYTES, char)), char).toBe(MAX_RESPONSE_BYTES);
      expect(isResponseTooLarge(sized(MAX_RESPONSE_BYTES, char)), char).toBe(true);
    }
  });

  it("a short response fits without being encoded; a third of the limit in 3-byte characters does not", () => {
    expect(isResponseTooLarge({ commands: [] })).toBe(false);
    expect(isResponseTooLarge({ v: "€".repeat(MAX_RESPONSE_BYTES / 3) })).toBe(true);
  });
});

describe("token inline hook builders", () => {
  it.each(["iss", "exp", "jti", "groups", "scp", "device_foo", "okta_emailVerified"])("refuses reserved claim %s", (claim) => {
    expect(() => identityPatch([addClaim(claim, "x")])).toThrow(/reserved/);
    expect(() => accessPatch([replaceClaim(claim, "x")])).toThrow(/reserved/);
  });

  it("allows aud and sub in the access token only", () => {
    expect(accessPatch([replaceClaim("aud", "api://other")]).value).toHaveLength(1);
    expect(() => identityPatch([replaceClaim("sub", "someone")])).toThrow(/access tokens only/);
    expect(() => identityPatch([replaceClaim("aud", "x")])).toThrow(/reserved/);
  });

  it("refuses a remove with a value, and accepts one without", () => {
    expect(() => identityPatch([{ op: "remove", path: "/claims/birthdate", value: "x" as never }])).toThrow(/no value/);
    expect(identityPatch([removeClaim("birthdate")]).value[0]).toEqual({ op: "remove", path: "/claims/birthdate" });
  });

  it.each([299, 86401, 3600.5])("refuses lifetime %s", (seconds) => {
    expect(() => accessPatch([setTokenLifetime(seconds)])).toThrow(/between 300 and 86400/);
  });

  it("accepts the lifetime bounds and refuses add on the lifetime", () => {
    expect(() => accessPatch([setTokenLifetime(300), setTokenLifetime(86400)])).not.toThrow();
    expect(() => accessPatch([{ op: "add", path: "/token/lifetime/expiration", value: 600 }])).toThrow(/only accepts "replace"/);
  });

  it("escapes claim names as JSON Pointer segments", () => {
    expect(addClaim("https://example.com/roles~x", 1).path).toBe("/claims/https:~1~1example.com~1roles~0x");
    expect(escapePointerSegment("a/b~c")).toBe("a~1b~0c");
    expect(parsePointer("/claims/a~1b~0c")).toEqual(["claims", "a/b~c"]);
  });

  it("refuses paths outside /claims and /token/lifetime/expiration", () => {
    expect(() => identityPatch([{ op: "add", path: "/token/type", value: "x" }])).toThrow(/neither/);
  });

  it("with the request: refuses a patch of a token that was not requested, and replace of a missing claim", () => {
    const idOnly = tokenHookRequestSchema.parse({ ...tokenRequest, data: { ...tokenRequest.data, access: undefined } });
    expect(() => accessPatch([addClaim("x", 1)], idOnly)).toThrow(/not requested/);
    expect(() => identityPatch([replaceClaim("nickname", "x")], tokenRequest)).toThrow(/no such claim/);
    expect(identityPatch([replaceClaim("email", "x@example.com")], tokenRequest).value).toHaveLength(1);
  });

  it("the response schema refuses what the builders refuse", () => {
    const schema = INLINE_HOOK_SCHEMAS.token.response;
    const patch = (value: unknown[]) => ({ commands: [{ type: "com.okta.identity.patch", value }] });
    expect(schema.safeParse(patch([{ op: "add", path: "/claims/iss", value: "x" }])).success).toBe(false);
    expect(schema.safeParse(patch([{ op: "remove", path: "/claims/x", value: 1 }])).success).toBe(false);
    expect(schema.safeParse(patch([{ op: "move", path: "/claims/x", value: 1 }])).success).toBe(false);
    expect(schema.safeParse({ commands: [], extra: true }).success).toBe(false);
  });
});

describe("registration inline hook builders", () => {
  const ssr = registrationHookRequestSchema.parse(fixture("registration-hook.request.ssr.json"));
  const progressive = registrationHookRequestSchema.parse(fixture("registration-hook.request.progressive-profile.json"));
  const classic = registrationHookRequestSchema.parse(fixture("captured/registration-hook.request.classic-ssr.json"));

  it("profile.update only for self-service registration (Classic's request without requestType counts)", () => {
    expect(updateProfile({ a: 1 }, ssr).type).toBe("com.okta.user.profile.update");
    expect(updateProfile({ a: 1 }, classic).type).toBe("com.okta.user.profile.update");
    expect(() => updateProfile({ a: 1 }, progressive)).toThrow(/self-service registration/);
  });

  it("progressive.profile.update only for progressive profiling", () => {
    expect(updateProgressiveProfile({ a: 1 }, progressive).type).toBe("com.okta.user.progressive.profile.update");
    expect(() => updateProgressiveProfile({ a: 1 }, ssr)).toThrow(/progressive.profile requests/);
  });

  it("never sets the password, nor an empty update", () => {
    expect(() => updateProfile({ password: "x" })).toThrow(/password/);
    expect(() => updateProfile({})).toThrow(/at least one/);
  });

  it("field errors name data.userProfile.<attribute> so the Sign-In Widget shows them", () => {
    expect(fieldError("email", "Use your work email")).toEqual({
      errorSummary: "Use your work email",
      locationType: "body",
      location: "data.userProfile.email",
      domain: "end-user",
    });
  });
});

describe("SAML, user import and telephony builders", () => {
  it("SAML: no remove, only the four roots, non-empty values", () => {
    expect(() => samlRemove(["claims", "x"])).toThrow(InlineCommandError);
    expect(() => samlAdd(["lifetime", "expiration"], 1)).toThrow(/must start with/);
    expect(() => assertionPatch([{ op: "remove" as never, path: "/claims/x", value: 1 }])).toThrow(/only "add" and "replace"/);
    expect(() => samlSessionLifetime(0)).toThrow(/positive/);
    expect(INLINE_HOOK_SCHEMAS.saml.response.safeParse({ commands: [{ type: "com.okta.assertion.patch", value: [{ op: "remove", path: "/claims/x", value: null }] }] }).success).toBe(false);
  });

  it("user import: LINK_USER always comes with com.okta.user.update {id}", () => {
    expect(() => linkUser("")).toThrow(/LINK_USER needs the id/);
    expect(userImportHookResponseSchema.safeParse({ commands: [{ type: "com.okta.action.update", value: { result: "LINK_USER" } }] }).success).toBe(false);
    expect(userImportHookResponseSchema.safeParse({ commands: [{ type: "com.okta.user.update", value: { id: "00u1" } }] }).success).toBe(false);
  });

  it("telephony: status is SUCCESSFUL, PENDING or FAILED", () => {
    expect(() => telephonyAction("DELIVERED" as never)).toThrow(/SUCCESSFUL, PENDING, FAILED/);
    expect(telephonyAction("PENDING")).toEqual({ commands: [{ type: "com.okta.telephony.action", value: [{ status: "PENDING" }] }] });
  });
});
