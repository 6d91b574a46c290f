/** Okta event types grouped the way the overview charts them (by the type's prefix). Pure. */

export const GROUPS = [
  { id: "lifecycle", label: "User lifecycle", test: (t: string) => t.startsWith("user.lifecycle.") || t.startsWith("user.account.") && !t.startsWith("user.account.lock") },
  { id: "auth", label: "Sessions and sign-in", test: (t: string) => t.startsWith("user.session.") || t.startsWith("user.authentication.") || t.startsWith("user.mfa.") || t.startsWith("policy.evaluate_sign_on") },
  { id: "security", label: "Security", test: (t: string) => t.startsWith("security.") || t.startsWith("user.account.lock") || t.startsWith("user.risk.") },
  { id: "group", label: "Groups", test: (t: string) => t.startsWith("group.") },
  { id: "app", label: "Apps", test: (t: string) => t.startsWith("application.") || t.startsWith("app.") },
  { id: "rate-limit", label: "Rate limits", test: (t: string) => t.includes("rate_limit") },
] as const;

export type GroupId = (typeof GROUPS)[number]["id"] | "other";

export function groupOf(eventType: string): GroupId {
  return GROUPS.find((g) => g.test(eventType))?.id ?? "other";
}

export const GROUP_LABELS: Record<GroupId, string> = {
  ...(Object.fromEntries(GROUPS.map((g) => [g.id, g.label])) as Record<(typeof GROUPS)[number]["id"], string>),
  other: "Other",
};

export const GROUP_ORDER: GroupId[] = [...GROUPS.map((g) => g.id), "other"];
