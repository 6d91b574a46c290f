import { describe, expect, it } from "vitest";
import { eventHookDeliverySchema, publishedMs, parseDeliverySource } from "../../src/okta/event-hook";
import { isJsonMediaType } from "../../src/http/json-body";
import { matchesAnySecret } from "../../src/http/header-secret";
import { describeFirstIssue } from "../../src/validation";

describe("parseDeliverySource", () => {
  it("reads the org host and hook id from an Okta source URL", () => {
    expect(parseDeliverySource("https://acme.okta.com/api/v1/eventHooks/who123")).toEqual({ oktaOrg: "acme.okta.com", eventHookId: "who123" });
  });
  it("tolerates missing and odd sources", () => {
    expect(parseDeliverySource(null)).toEqual({ oktaOrg: null, eventHookId: null });
    expect(parseDeliverySource("not a url")).toEqual({ oktaOrg: null, eventHookId: null });
    expect(parseDeliverySource("https://${yourOktaDomain}/api/v1/eventHooks/whoql0")).toEqual({ oktaOrg: "${youroktadomain}", eventHookId: "whoql0" });
  });
});

describe("publishedMs", () => {
  it("reads Okta's canonical form and offsets as epoch milliseconds", () => {
    expect(publishedMs("2019-10-24T14:21:28.577Z")).toBe(Date.UTC(2019, 9, 24, 14, 21, 28, 577));
    expect(publishedMs("2019-10-24T16:21:28+02:00")).toBe(Date.UTC(2019, 9, 24, 14, 21, 28, 0));
  });
  it("answers null for unparseable values and null", () => {
    expect(publishedMs("yesterday")).toBeNull();
    expect(publishedMs(null)).toBeNull();
  });
});

describe("isJsonMediaType", () => {
  it.each([
    ["application/json", true],
    ["Application/JSON; charset=utf-8", true],
    ["application/cloudevents+json", true],
    ["application/jsonp", false],
    ["text/json", false],
    ["text/plain", false],
    [undefined, false],
  ])("%s → %s", (value, expected) => {
    expect(isJsonMediaType(value)).toBe(expected);
  });
});

describe("matchesAnySecret", () => {
  it("matches any configured secret and nothing else", async () => {
    expect(await matchesAnySecret("b", ["a", "b"])).toBe(true);
    expect(await matchesAnySecret("c", ["a", "b"])).toBe(false);
    expect(await matchesAnySecret("", ["a"])).toBe(false);
    expect(await matchesAnySecret("a", [])).toBe(false);
    expect(await matchesAnySecret("ab", ["a"])).toBe(false);
  });
});

describe("describeFirstIssue", () => {
  it("names missing fields as required and wrong ones by zod's message", () => {
    const missing = { data: { events: [{ eventType: "x" }] } };
    const r1 = eventHookDeliverySchema.safeParse(missing);
    expect(r1.success).toBe(false);
    if (!r1.success) expect(describeFirstIssue(r1.error, missing)).toBe("data.events[0].uuid: is required");
    const wrong = { data: { events: [{ uuid: 7, eventType: "x" }] } };
    const r2 = eventHookDeliverySchema.safeParse(wrong);
    if (!r2.success) expect(describeFirstIssue(r2.error, wrong)).toMatch(/^data\.events\[0\]\.uuid: Invalid input: expected string/);
  });
});
