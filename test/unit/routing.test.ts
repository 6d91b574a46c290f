import { describe, expect, it } from "vitest";
import { destinationConditionsSchema, eventTypeFilterSchema, matchesEventType, routesTo } from "../../src/okta/routing";
import sessionStart from "../fixtures/okta/event-hook.delivery.user-session-start.json";

const event = sessionStart.data.events[0]!;

describe("event-type filter", () => {
  it("matches exact names, prefixes and *", () => {
    expect(matchesEventType(["user.session.start"], "user.session.start")).toBe(true);
    expect(matchesEventType(["user.session.end"], "user.session.start")).toBe(false);
    expect(matchesEventType(["user.lifecycle.*"], "user.lifecycle.create")).toBe(true);
    expect(matchesEventType(["user.lifecycle.*"], "user.lifecycle.delete.initiated")).toBe(true);
    expect(matchesEventType(["user.lifecycle.*"], "user.lifecycle")).toBe(false);
    expect(matchesEventType(["user.lifecycle.*"], "user.lifecyclex.create")).toBe(false);
    expect(matchesEventType(["group.user_membership.add", "user.*"], "user.session.start")).toBe(true);
    expect(matchesEventType(["*"], "anything.at.all")).toBe(true);
  });

  it("accepts only well-formed patterns", () => {
    expect(eventTypeFilterSchema.safeParse(["user.lifecycle.*", "user.session.start", "*"]).success).toBe(true);
    for (const bad of [[], ["user.*.start"], ["user..start"], ["user.lifecycle.*.*"], [""], ["user lifecycle"]]) {
      expect(eventTypeFilterSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe("conditions on the Okta LogEvent (fixture user.session.start)", () => {
  it("routes when every condition holds", () => {
    expect(routesTo(event, { eventTypes: ["user.session.*"], conditions: {} })).toBe(true);
    expect(
      routesTo(event, {
        eventTypes: ["*"],
        conditions: { outcomeResults: ["SUCCESS"], actorIds: ["00uz9fj5aT69fHVro1d6"], targetTypes: ["AppInstance"] },
      }),
    ).toBe(true);
  });

  it("does not route when one condition fails", () => {
    expect(routesTo(event, { eventTypes: ["*"], conditions: { outcomeResults: ["FAILURE", "DENY"] } })).toBe(false);
    expect(routesTo(event, { eventTypes: ["*"], conditions: { actorIds: ["00uSomeoneElse"] } })).toBe(false);
    expect(routesTo(event, { eventTypes: ["*"], conditions: { targetTypes: ["UserGroup"] } })).toBe(false);
    expect(routesTo(event, { eventTypes: ["user.lifecycle.*"], conditions: {} })).toBe(false);
  });

  it("treats missing actor, outcome and targets as not matching a condition on them", () => {
    const bare = { eventType: "user.session.start" };
    expect(routesTo(bare, { eventTypes: ["*"], conditions: {} })).toBe(true);
    expect(routesTo(bare, { eventTypes: ["*"], conditions: { targetTypes: ["User"] } })).toBe(false);
    expect(routesTo({ ...bare, target: [null] }, { eventTypes: ["*"], conditions: { targetTypes: ["User"] } })).toBe(false);
  });

  it("rejects unknown condition keys (strict admin input)", () => {
    expect(destinationConditionsSchema.safeParse({ outcome: ["SUCCESS"] }).success).toBe(false);
  });
});
