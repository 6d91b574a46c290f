/**
 * Okta event types grouped the way the overview charts them, by the type's prefix (Okta's event types catalog,
 * https://developer.okta.com/docs/reference/api/event-types/): user lifecycle (user.lifecycle.*, user.account.*
 * but its lock events), sessions and sign-in (user.session.*, user.authentication.*, user.mfa.*,
 * policy.evaluate_sign_on), security (security.*, user.account.lock*, user.risk.*), groups (group.*), apps
 * (application.*, app.*) and rate limits (system.org.rate_limit.* and any other *.rate_limit* type, whatever its
 * prefix, so application.integration.rate_limit_exceeded counts as a rate limit, not an app event). Pure.
 */

export const GROUPS = [
  { id: "lifecycle", label: "User lifecycle", test: (t: string) => t.startsWith("user.lifecycle.") || (t.startsWith("user.account.") && !t.startsWith("user.account.lock")) },
  { id: "auth", label: "Sessions and sign-in", test: (t: string) => t.startsWith("user.session.") || t.startsWith("user.authentication.") || t.startsWith("user.mfa.") || t.startsWith("policy.evaluate_sign_on") },
  { id: "security", label: "Security", test: (t: string) => t.startsWith("security.") || t.startsWith("user.account.lock") || t.startsWith("user.risk.") },
  { id: "group", label: "Groups", test: (t: string) => t.startsWith("group.") },
  { id: "app", label: "Apps", test: (t: string) => t.startsWith("application.") || t.startsWith("app.") },
  { id: "rate-limit", label: "Rate limits", test: (t: string) => t.startsWith("system.org.rate_limit.") || t.includes(".rate_limit") },
] as const;

export type GroupId = (typeof GROUPS)[number]["id"] | "other";

/** Rate limits are checked first: their types also start with other groups' prefixes. */
const MATCH_ORDER = [GROUPS[5], ...GROUPS.slice(0, 5)];

export function groupOf(eventType: string): GroupId {
  return MATCH_ORDER.find((g) => g.test(eventType))?.id ?? "other";
}

export const GROUP_LABELS: Record<GroupId, string> = {
  ...(Object.fromEntries(GROUPS.map((g) => [g.id, g.label])) as Record<(typeof GROUPS)[number]["id"], string>),
  other: "Other",
};

export const GROUP_ORDER: GroupId[] = [...GROUPS.map((g) => g.id), "other"];
