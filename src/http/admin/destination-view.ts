/** The admin API's view of a destination: camelCase, ISO times, secrets never shown (only whether one is set). */
import type { Destination } from "../../storage/destinations";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the admin API shows of a destination. */
export function destinationView(d: Destination, now: number) {
  const overlap = d.sealedPreviousSigningSecret !== null && d.previousSecretExpiresAt !== null && now < d.previousSecretExpiresAt;
  return {
    id: d.id,
    name: d.name,
    url: d.url,
    eventTypes: d.eventTypes,
    conditions: d.conditions,
    format: d.format,
    oktaAuth: d.format === "okta" && d.oktaAuthHeader ? { header: d.oktaAuthHeader, valueSet: d.sealedOktaAuthValue !== null } : null,
    timeoutMs: d.timeoutMs,
    state: d.state,
    consecutiveFailures: d.consecutiveFailures,
    disabledReason: d.disabledReason,
    previousSecretExpiresAt: overlap ? iso(d.previousSecretExpiresAt) : null,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}
