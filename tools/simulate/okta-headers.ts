/**
 * The headers Okta sends, as recorded (test/fixtures/okta/captured/*.headers.json and Okta Support's verification
 * example, test/fixtures/okta/event-hook.verification.request.http):
 * - deliveries: `accept` and `content-type` application/json, the configured auth header, and the user agent
 *   `Okta Hook Service v1.0.0 - <event hook id>`, without `x-okta-request-id`;
 * - the verification GET and inline hooks: user agent `Okta-Integrations` and `x-okta-request-id`; inline hooks
 *   also `cache-control: no-cache` and `pragma: no-cache`.
 * The auth header's name is the hook's `authScheme.key` (the gateway's EVENT_HOOK_AUTH_HEADER /
 * INLINE_HOOK_AUTH_HEADER) and its value the secret as configured in Okta.
 */

export interface HookAuth {
  header: string;
  secret: string;
}

export function deliveryHeaders(auth: HookAuth, eventHookId: string): Record<string, string> {
  return {
    accept: "application/json",
    "content-type": "application/json",
    [auth.header]: auth.secret,
    "user-agent": `Okta Hook Service v1.0.0 - ${eventHookId}`,
  };
}

export function verificationHeaders(auth: HookAuth, challenge: string, oktaRequestId: string): Record<string, string> {
  return {
    "user-agent": "Okta-Integrations",
    accept: "application/json",
    "x-okta-request-id": oktaRequestId,
    "x-okta-verification-challenge": challenge,
    [auth.header]: auth.secret,
  };
}

export function inlineHeaders(auth: HookAuth, oktaRequestId: string): Record<string, string> {
  return {
    accept: "application/json",
    [auth.header]: auth.secret,
    "cache-control": "no-cache",
    "content-type": "application/json",
    pragma: "no-cache",
    "user-agent": "Okta-Integrations",
    "x-okta-request-id": oktaRequestId,
  };
}
