/**
 * The dashboard's reading of the admin API, held against the API itself: its types (dashboard/src/api/types.ts)
 * must accept what the API's views produce (checked by the type checker, below), and its field mapping
 * (dashboard/src/api/errors.ts) must put the API's real 400 messages beside the right form control.
 */
import { describe, expect, it } from "vitest";
import { ApiFailure, formErrorsOf, formFieldFor, splitFieldMessage } from "../../dashboard/src/api/errors";
import type * as Dashboard from "../../dashboard/src/api/types";
import type { destinationView } from "../../src/http/admin/destination-view";
import type { eventSummaryView } from "../../src/http/admin/event-view";
import type { inlineCallView } from "../../src/http/admin/inline-calls";
import type { inlineTypeStatsView } from "../../src/http/admin/stats";
import type { replayJobView } from "../../src/http/admin/replay-view";
import type { LookupEntry, LookupTableSummary, StoredRule } from "../../src/storage/inline-rules";
import type { TestEventResult } from "../../src/usecases/test-event";
import { request } from "../helpers/gateway";

// Type-level: a change to the API's answers that the dashboard would misread fails `npm run typecheck`.
type Assignable<From, To> = From extends To ? true : false;
const destinationsMatch: Assignable<ReturnType<typeof destinationView>, Dashboard.Destination> = true;
const rulesMatch: Assignable<StoredRule, Dashboard.Rule> = true;
const lookupEntriesMatch: Assignable<LookupEntry, Dashboard.LookupEntry> = true;
const lookupTablesMatch: Assignable<{ tables: LookupTableSummary[]; next: string | null }, Dashboard.LookupTables> = true;
const testEventsMatch: Assignable<TestEventResult, Dashboard.TestEventResult> = true;
const jobsMatch: Assignable<ReturnType<typeof replayJobView>, Dashboard.ReplayJob> = true;
const eventsMatch: Assignable<ReturnType<typeof eventSummaryView>, Dashboard.EventSummary> = true;
const inlineCallsMatch: Assignable<ReturnType<typeof inlineCallView>, Dashboard.InlineCall> = true;
const inlineStatsMatch: Assignable<ReturnType<typeof inlineTypeStatsView>, Dashboard.InlineTypeStats> = true;

/** The destination form's fields (dashboard/src/pages/destination-editor.tsx). */
const DESTINATION_FIELDS = ["name", "url", "eventTypes", "conditions.outcomeResults", "conditions.actorIds", "conditions.targetTypes", "format", "oktaAuth", "oktaAuth.header", "oktaAuth.value", "timeoutMs"];

async function failureOf(path: string, body: unknown): Promise<ApiFailure> {
  const res = await request(path, { as: "admin", body });
  expect(res.status).toBe(400);
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  return new ApiFailure(res.status, error.code, error.message);
}

describe("the dashboard's field mapping against the admin API's 400 messages", () => {
  it("holds the API's views as the dashboard's types", () => {
    expect([destinationsMatch, rulesMatch, lookupEntriesMatch, lookupTablesMatch, testEventsMatch, jobsMatch, eventsMatch, inlineCallsMatch, inlineStatsMatch]).toEqual([
      true, true, true, true, true, true, true, true, true,
    ]);
  });

  it("puts a bad event type beside the event types, naming which one", async () => {
    const failure = await failureOf("/admin/api/destinations", { name: "x", url: "https://receiver.example.com/", eventTypes: ["user.session.*", "not a type!"] });
    expect(splitFieldMessage(failure.message).field).toBe("eventTypes[1]");
    const errors = formErrorsOf(failure, DESTINATION_FIELDS);
    expect(errors.form).toBeNull();
    expect(errors.fields.eventTypes).toMatch(/^\[1\]: must be an event type/);
  });

  it("puts a condition's problem beside that condition, and a refused URL beside the URL", async () => {
    const condition = await failureOf("/admin/api/destinations", { name: "x", url: "https://receiver.example.com/", conditions: { outcomeResults: [] } });
    expect(Object.keys(formErrorsOf(condition, DESTINATION_FIELDS).fields)).toEqual(["conditions.outcomeResults"]);
    const url = await failureOf("/admin/api/destinations", { name: "x", url: "http://10.0.0.1/hook" });
    expect(formErrorsOf(url, DESTINATION_FIELDS).fields.url).toBeTruthy();
    const okta = await failureOf("/admin/api/destinations", { name: "x", url: "https://receiver.example.com/", format: "okta" });
    expect(Object.keys(formErrorsOf(okta, DESTINATION_FIELDS).fields)).toEqual(["oktaAuth"]);
  });

  it("puts a rule's bad pattern and reserved claim beside their controls", async () => {
    const pattern = await failureOf("/admin/api/rules", {
      kind: "registration.attribute-pattern",
      definition: { attribute: "email", pattern: "(", effect: "deny-if-match", errorSummary: "no", fieldMessage: "no" },
    });
    const ruleFields = ["kind", "name", "priority", "enabled", "definition", "definition.attribute", "definition.pattern"];
    expect(formErrorsOf(pattern, ruleFields).fields["definition.pattern"]).toMatch(/is not a valid RE2 regular expression/);
    const claim = await failureOf("/admin/api/rules", { kind: "token.claim", definition: { token: "identity", claim: "sub", value: { from: "static", value: 1 } } });
    expect(formErrorsOf(claim, ["definition", "definition.claim"]).fields["definition.claim"]).toMatch(/reserved/);
  });

  it("keeps a message that names no control of the form for the whole form", async () => {
    const unknown = await failureOf("/admin/api/destinations", { name: "x", url: "https://receiver.example.com/", colour: "blue" });
    const errors = formErrorsOf(unknown, DESTINATION_FIELDS);
    expect(errors.fields).toEqual({});
    expect(errors.form).toBe(unknown.message);
    expect(formErrorsOf(new ApiFailure(503, "not_configured", "Set SECRETS_ENCRYPTION_KEY."), DESTINATION_FIELDS)).toEqual({ fields: {}, form: "Set SECRETS_ENCRYPTION_KEY." });
  });

  it("matches a field by the longest prefix, never by a name that merely starts the same", () => {
    expect(formFieldFor("definition.value.key.attribute", ["definition", "definition.value.key.attribute", "definition.value.key"])).toBe("definition.value.key.attribute");
    expect(formFieldFor("definition.value.value.tier", ["definition", "definition.value.value"])).toBe("definition.value.value");
    expect(formFieldFor("eventTypesExtra", ["eventTypes"])).toBeNull();
    expect(splitFieldMessage("The request body is invalid.")).toEqual({ field: null, text: "The request body is invalid." });
  });
});
