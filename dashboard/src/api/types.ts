/**
 * What the admin API answers, as the dashboard reads it. Plain types with no DOM or Worker dependency, so the
 * Worker's type check can hold them against the API's own view functions (test/unit/dashboard-api-types.test.ts).
 *
 * Destinations, rules, lookup tables, the health check and an event's deliveries are on every gateway. Event
 * search and detail, replays, dead letters and stats come with the operations API (docs/dashboard.md): a gateway
 * without them answers 404, and the pages that need them say so.
 */

// ---- health (GET /healthz with the admin token) ----
export interface Health {
  status: "ok" | "degraded" | "down";
  version: string;
  problems: string[];
  d1: { reachable: boolean; ms: number };
  disabledDestinations: Array<{ id: string; name: string; disabledReason: string | null; disabledAt?: string | null }>;
  /** Gateways with detailed health (docs/operations.md "Health"); absent on older ones. */
  backlog?: {
    lateAfterMinutes: number;
    outbox: { batches: number; oldestAt: string | null; oldestAgeSeconds: number | null };
    deliveries: { retrying: number; overdue: number; waiting: number; oldestOverdueSeconds: number | null };
  };
  deadLetters?: { lastHour: number };
  alerts?: {
    destinationId: string | null;
    destination: { name: string; state: string } | null;
    recent: Array<{ id: number; kind: string; subject: string; raisedAt: string | null; state: string; lastError: string | null }>;
  };
}

// ---- destinations (/admin/api/destinations) ----
export type DestinationState = "active" | "paused" | "disabled";
export type DestinationFormat = "standard" | "okta";
export interface DestinationConditions {
  outcomeResults?: string[];
  actorIds?: string[];
  targetTypes?: string[];
}
export interface Destination {
  id: string;
  name: string;
  url: string;
  eventTypes: string[];
  conditions: DestinationConditions;
  format: DestinationFormat;
  oktaAuth: { header: string; valueSet: boolean } | null;
  timeoutMs: number;
  state: DestinationState;
  consecutiveFailures: number;
  disabledReason: string | null;
  /** The newest failure still standing (a delivery retrying, or dead); null when none. */
  lastFailure?: { at: string | null; status: number | null; error: string | null; delivery: "retrying" | "dead" } | null;
  previousSecretExpiresAt: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}
/** POST /admin/api/destinations/{id}/test-event */
export interface TestEventResult {
  destinationId: string;
  eventUuid: string;
  eventType: string;
  webhookId: string;
  outcome: "delivered" | "retry" | "dead";
  status: number | null;
  latencyMs: number;
  error: string | null;
  attemptedAt: string;
}
export interface DestinationInput {
  name: string;
  url: string;
  eventTypes: string[];
  conditions: DestinationConditions;
  format: DestinationFormat;
  oktaAuth?: { header: string; value: string };
  timeoutMs: number;
  state?: DestinationState;
}
export type CreatedDestination = Destination & { secret: string };
export interface RotatedSecret {
  id: string;
  secret: string;
  previousSecretExpiresAt: string | null;
}

// ---- inline hook rules (/admin/api/rules) ----
export const INLINE_HOOK_TYPES = ["token", "registration", "password-import", "saml", "user-import", "telephony"] as const;
export type InlineHookType = (typeof INLINE_HOOK_TYPES)[number];
export type RuleKind =
  | "registration.email-domain"
  | "registration.attribute-pattern"
  | "registration.default-profile"
  | "token.claim"
  | "saml.attribute"
  | "user-import.link-by-attribute";
export interface RuleInput {
  kind: RuleKind;
  name?: string;
  priority: number;
  enabled: boolean;
  definition: Record<string, unknown>;
}
export type Rule = RuleInput & { id: string; hookType: InlineHookType; createdAt: number; updatedAt: number };

export interface LookupEntry {
  table: string;
  key: string;
  value: unknown;
  updatedAt: number;
}
export interface LookupPage {
  table: string;
  entries: LookupEntry[];
  next: string | null;
}
/** GET /admin/api/rules/lookup-tables */
export interface LookupTables {
  tables: Array<{ table: string; entries: number; entriesCapped: boolean }>;
  next: string | null;
}

// ---- an event's deliveries (GET /admin/api/events/{uuid}/deliveries; also inside the event detail) ----
export type ForwardState = "pending" | "fanned_out" | "unrouted" | "skipped";
export interface Attempt {
  attempt: number;
  attemptedAt: string | null;
  status: number | null;
  latencyMs: number;
  outcome: string;
  error: string | null;
  jobId?: string | null;
}
export interface Delivery {
  destinationId: string;
  destinationName: string | null;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string | null;
  deliveredAt: string | null;
  jobId?: string | null;
  attemptLog: Attempt[];
}
export interface EventDeliveries {
  eventUuid: string;
  eventType: string;
  forwardState: ForwardState;
  deliveries: Delivery[];
}

// ---- operations API: events (GET /admin/api/events, /admin/api/events/{uuid}) ----
export interface EventSummary {
  uuid: string;
  eventType: string;
  published: string | null;
  receivedAt: string | null;
  actorId: string | null;
  actorAlternateId: string | null;
  outcomeResult: string | null;
  severity: string | null;
  oktaOrg: string | null;
  forwardState: ForwardState;
}
export interface EventPage {
  events: EventSummary[];
  nextCursor: string | null;
}
export type EventDetail = EventSummary & {
  eventHookId: string | null;
  envelopeEventId: string | null;
  payload: unknown;
  deliveries: Delivery[];
};
export interface EventSearch {
  type?: string;
  since?: string;
  until?: string;
  timeField?: "published" | "received";
  actor?: string;
  outcome?: string;
}

// ---- operations API: dead letters (/admin/api/dead-letters) ----
export interface DeadLetter {
  destinationId: string;
  destinationName: string | null;
  eventUuid: string;
  eventType: string | null;
  reason: string;
  attempts: number;
  recordedAt: string;
}
export interface DeadLetterPage {
  deadLetters: DeadLetter[];
  nextCursor: string | null;
}

// ---- operations API: replays (/admin/api/replays) ----
export interface ReplayJob {
  id: string;
  kind: string;
  state: string;
  eventUuid: string | null;
  destinationId: string | null;
  filter?: Record<string, string | null> | null;
  ratePerSecond: number;
  progress: { matched: number; enqueued: number; skipped: number; delivered: number; failed: number; scanned: number | null };
  createdAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
}
export interface ReplayDryRun {
  dryRun: true;
  events: number;
  destinations: Array<{ destinationId: string; name: string; events: number; exact: boolean }>;
  complete: boolean;
}

// ---- operations API: stats (/admin/api/stats…) ----
export interface StatsOverview {
  d1: { sizeBytes: number | null; limitBytes: number; usedPercent: number | null };
  events: { oldestReceivedAt: string | null; newestReceivedAt: string | null; receivedLast24Hours: number };
  outbox: { batches: number; oldestCreatedAt: string | null };
}
export interface EventStats {
  bucket: "hour" | "day";
  since: string;
  until: string;
  total: number;
  eventTypes: Array<{ eventType: string; count: number }>;
  buckets: Array<{ start: string; total: number; counts: Array<{ eventType: string; count: number }> }>;
}
export interface DeliveryStats {
  since: string;
  until: string;
  destinations: Array<{
    destinationId: string;
    destinationName: string | null;
    state: string | null;
    delivered: number;
    dead: number;
    retrying: number;
    waiting: number;
    successRate: number | null;
    latencyMs: { p50: number; p95: number; sample: number } | null;
  }>;
}

// ---- operations API: inline hook calls (/admin/api/inline-calls, /admin/api/stats/inline) ----
export interface InlineCall {
  type: InlineHookType;
  receivedAt: string;
  requestType: string | null;
  oktaRequestId: string | null;
  eventId: string | null;
  decision: string;
  decidedBy: string;
  fallbackReason: string | null;
  commands: string[];
  status: number;
  latencyMs: number;
}
export interface InlineCallPage {
  calls: InlineCall[];
  nextCursor: string | null;
}
/** The search's filters, as query parameters. */
export interface InlineCallSearch {
  type?: InlineHookType;
  decision?: string;
  decidedBy?: string;
  fallbackReason?: string;
  since?: string;
  until?: string;
}
export interface InlineTypeStats {
  type: InlineHookType;
  calls: number;
  /** False: the window held more audit rows than were read; the figures are over its newest calls, back to oldestCall. */
  complete: boolean;
  oldestCall: string | null;
  decisions: Array<{ decision: string; count: number }>;
  decidedBy: Array<{ group: string; count: number }>;
  fallbacks: Array<{ reason: string; count: number }>;
  latencyMs: { p50: number; p95: number; p99: number; sample: number } | null;
}
export interface InlineStats {
  since: string;
  until: string;
  types: InlineTypeStats[];
}
