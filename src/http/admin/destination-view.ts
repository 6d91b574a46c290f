/**
 * The admin API's view of a destination: camelCase, ISO times, secrets never shown (only whether one is set), and
 * its last failure still standing when the route read it (src/storage/destination-last-failure.ts).
 */
import type { LastFailure } from "../../storage/destination-last-failure";
import type { Destination } from "../../storage/destinations";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the admin API shows of a destination. */
export function destinationView(d: Destination, now: number, lastFailure: LastFailure | null = null) {
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
    lastFailure: lastFailure && { at: iso(lastFailure.at), status: lastFailure.status, error: lastFailure.error, delivery: lastFailure.delivery },
    previousSecretExpiresAt: overlap ? iso(d.previousSecretExpiresAt) : null,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}
