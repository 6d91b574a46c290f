#!/usr/bin/env node
// How PAYLOAD_DICTIONARY_V1 (src/storage/payload-dictionary.ts) was made, kept as its record: LogEvent templates with
// the members in the order Okta emits them (https://developer.okta.com/docs/reference/api/system-log/#logevent-object)
// and Okta's own vocabulary — event types, display messages, legacy types, target types, policy and sign-on mode
// names, risk and behaviour strings, common browser user agents — with empty strings and zeros where every event
// has its own value. It holds no event of an org, none of Okta's published sample events (those stay a fair test
// of it: test/fixtures/okta) and nothing of the benchmark's synthesized events.
//
// `node scripts/build-payload-dictionary.mjs > dict.txt` prints it. The dictionary is FROZEN once stored payloads
// depend on it: a better one is a new codec with a new constant; test/unit/payload-codec.test.ts pins its hash.
const geo = (city, state, country, postalCode) => ({ city, state, country, postalCode, geolocation: { lat: 0, lon: 0 } });
const agents = [
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Windows 10", "EDGE_CHROMIUM", "Computer"],
  ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "iOS", "SAFARI", "Mobile"],
  ["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Linux", "FIREFOX", "Computer"],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Windows 10", "CHROME", "Computer"],
  ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mac OS X", "CHROME", "Computer"],
];
const behaviors = "{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}";
const logOnly = JSON.stringify({ risk: { level: "LOW" }, behaviors: { "New Geo-Location": "NEGATIVE", "New Device": "NEGATIVE", "New IP": "NEGATIVE", "New State": "NEGATIVE", "New Country": "NEGATIVE", Velocity: "NEGATIVE", "New City": "NEGATIVE" } });
const kinds = [
  ["system.org.rate_limit.warning", null, "Rate limit warning", "/api/v1/users", "WARN", { result: "SUCCESS", reason: null }],
  ["user.lifecycle.deactivate", "core.user.config.user_deactivated", "Deactivate Okta User", "/api/v1/users/00u/lifecycle/deactivate", "INFO", { result: "SUCCESS", reason: null }],
  ["user.lifecycle.create", "core.user.config.user_creation.success", "Create Okta user", "/api/v1/users", "INFO", { result: "SUCCESS", reason: null }],
  ["group.user_membership.add", "core.user_group_member.user_add", "Add user to group membership", "/api/v1/groups/00g/users/00u", "INFO", { result: "SUCCESS", reason: null }],
  ["user.account.update_profile", "core.user.config.profile_update_success", "Update user profile for Okta", "/api/v1/users/00u", "INFO", { result: "SUCCESS", reason: null }],
  ["app.oauth2.as.token.grant.access_token", "app.oauth2.as.token.grant.access_token_success", "OAuth2 access token is granted", "/oauth2/default/v1/token", "INFO", { result: "SUCCESS", reason: null }],
  ["user.authentication.auth_via_mfa", "core.user.factor.attempt_success", "Authentication of user via MFA", "/idp/idx/challenge/answer", "INFO", { result: "SUCCESS", reason: null }],
  ["user.session.start", "core.user_auth.login_failed", "User login to Okta", "/idp/idx/identify", "WARN", { result: "FAILURE", reason: "INVALID_CREDENTIALS" }],
  ["policy.evaluate_sign_on", null, "Evaluation of sign-on policy", "/idp/idx/introspect", "INFO", { result: "ALLOW", reason: "Sign-on policy evaluation resulted in ALLOW" }],
  ["user.authentication.sso", "app.auth.sso", "User single sign on to app", "/app/salesforce/exk/sso/saml", "INFO", { result: "SUCCESS", reason: null }],
  ["user.session.start", "core.user_auth.login_success", "User login to Okta", "/idp/idx/identify", "INFO", { result: "SUCCESS", reason: null }],
];
const targets = [
  [{ id: "00g", type: "UserGroup", alternateId: "unknown", displayName: "", detailEntry: null }, { id: "00u", type: "User", alternateId: "", displayName: "", detailEntry: null }],
  [{ id: "rul", type: "Rule", alternateId: "unknown", displayName: "Catch-all Rule", detailEntry: null }, { id: "00p", type: "PolicyEntity", alternateId: "unknown", displayName: "Default Policy", detailEntry: { policyType: "Okta:SignOn" } }],
  [{ id: "0oa", type: "AppInstance", alternateId: "", displayName: "", detailEntry: { signOnModeType: "OPENID_CONNECT" } }, { id: "00u", type: "AppUser", alternateId: "", displayName: "", detailEntry: null }],
  [{ id: "lae", type: "AuthenticatorEnrollment", alternateId: "unknown", displayName: "Okta Verify", detailEntry: null }, { id: "0oa", type: "AppInstance", alternateId: "Okta Dashboard", displayName: "Okta Dashboard", detailEntry: null }],
  [{ id: "0oa", type: "AppInstance", alternateId: "", displayName: "", detailEntry: { signOnModeType: "SAML_2_0" } }, { id: "00u", type: "User", alternateId: "", displayName: "", detailEntry: null }],
];
const templates = kinds.map(([eventType, legacy, message, uri, severity, outcome], i) => {
  const [rawUserAgent, os, browser, device] = agents[i % agents.length];
  const g = geo("", "", i % 2 ? "United States" : "Canada", "");
  return {
    actor: { id: "00u", type: i === 0 ? "PublicClientApp" : "User", alternateId: "", displayName: "", detailEntry: null },
    client: { userAgent: { rawUserAgent, os, browser }, zone: "null", device, id: null, ipAddress: "", geographicalContext: g },
    device: i % 3 === 0 ? { id: "guo", name: "", os_platform: "MACOS", os_version: "", managed: false, registered: true, device_integrator: null, disk_encryption_type: "ALL_INTERNAL_VOLUMES", screen_lock_type: "BIOMETRIC", jailbreak: null, secure_hardware_present: true } : null,
    authenticationContext: { authenticationProvider: i % 2 ? "FACTOR_PROVIDER" : null, credentialProvider: i % 2 ? "OKTA_CREDENTIAL_PROVIDER" : null, credentialType: i % 2 ? "PASSWORD" : null, issuer: null, interface: null, authenticationStep: 0, rootSessionId: "", externalSessionId: "idx" },
    displayMessage: message,
    eventType,
    outcome,
    published: "2026-01-01T00:00:00.000Z",
    securityContext: { asNumber: 0, asOrg: "", isp: "", domain: "", isProxy: false },
    severity,
    debugContext: { debugData: { requestId: "", dtHash: "", requestUri: uri, url: `${uri}?`, authnRequestId: "", threatSuspected: "false", deviceFingerprint: "", risk: "{level=LOW}", behaviors, logOnlySecurityData: logOnly } },
    legacyEventType: legacy,
    transaction: { type: "WEB", id: "", detail: {} },
    uuid: "",
    version: "0",
    request: { ipChain: [{ ip: "", geographicalContext: g, version: "V4", source: null }] },
    target: targets[i % targets.length],
  };
});
process.stdout.write(templates.map((t) => JSON.stringify(t)).join(""));
