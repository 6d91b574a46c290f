/** Building Okta event hook requests for tests: envelopes and LogEvents shaped like the real ones. */
import { BASE } from "./worker";

import { TEST_EVENT_SECRET_NEW, TEST_EVENT_SECRET_OLD } from "../test-config";

export const EVENT_SECRET_OLD = TEST_EVENT_SECRET_OLD;
export const EVENT_SECRET_NEW = TEST_EVENT_SECRET_NEW;

export function eventHookPost(body: string | object, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/hooks/events`, {
    method: "POST",
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      authorization: EVENT_SECRET_NEW,
      "user-agent": "Okta Hook Service v1.0.0 - whoTestHook0000000",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function logEvent(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    published: new Date(Date.UTC(2026, 10, 1, 12, 0, 0, n)).toISOString(),
    eventType: "user.lifecycle.create",
    version: "0",
    displayMessage: "Create okta user",
    severity: "INFO",
    client: { ipChain: [] },
    actor: { id: "00uActor", type: "User", alternateId: "admin@example.com", displayName: "Admin" },
    outcome: { result: "SUCCESS", reason: null },
    target: [{ id: `00uTarget${n}`, type: "User", alternateId: `user${n}@example.com`, displayName: `User ${n}` }],
    transaction: { type: "WEB", id: `tx${n}`, detail: {} },
    debugContext: { debugData: { requestUri: "/api/v1/users" } },
    legacyEventType: "core.user.config.user_creation.success",
    authenticationContext: { authenticationStep: 0, externalSessionId: "trs123" },
    securityContext: {},
    insertionTimestamp: null,
    ...overrides,
  };
}

export function envelope(events: unknown[], eventId = crypto.randomUUID()): Record<string, unknown> {
  return {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: "https://acme.okta.com/api/v1/eventHooks/whoTestHook0000000",
    eventId,
    data: { events },
    eventTime: "2026-11-01T12:00:01.000Z",
    contentType: "application/json",
  };
}
