/**
 * The overview chart's type groups (dashboard/src/pages/event-groups.ts) on Okta's event types: each group by its
 * prefix, rate limits recognised whatever their prefix, and everything else "other".
 */
import { describe, expect, it } from "vitest";
import { groupOf } from "../../dashboard/src/pages/event-groups";

describe("groupOf", () => {
  it.each([
    ["user.lifecycle.create", "lifecycle"],
    ["user.lifecycle.delete.initiated", "lifecycle"],
    ["user.account.update_profile", "lifecycle"],
    ["user.session.start", "auth"],
    ["user.authentication.auth_via_mfa", "auth"],
    ["user.mfa.factor.activate", "auth"],
    ["policy.evaluate_sign_on", "auth"],
    ["security.threat.detected", "security"],
    ["user.account.lock", "security"],
    ["user.account.lock.limit", "security"],
    ["user.risk.change", "security"],
    ["group.user_membership.add", "group"],
    ["application.user_membership.add", "app"],
    ["app.oauth2.token.grant", "app"],
    ["system.org.rate_limit.violation", "rate-limit"],
    ["system.org.rate_limit.warning", "rate-limit"],
    ["application.integration.rate_limit_exceeded", "rate-limit"],
    ["system.import.start", "other"],
    ["gateway.test", "other"],
  ])("%s → %s", (type, group) => {
    expect(groupOf(type)).toBe(group);
  });
});
