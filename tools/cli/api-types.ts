/**
 * The answers of the admin API the CLI renders, as far as it reads them (the full shapes: GET /admin/api/openapi.json,
 * or the reference page at /admin/api/docs). Fields the CLI does not show are left out; `--json` prints answers whole.
 */
export interface Destination {
  id: string;
  name: string;
  url: string;
  eventTypes: string[];
  conditions: { outcomeResults?: string[]; actorIds?: string[]; targetTypes?: string[] };
  format: string;
  oktaAuth: { header: string; valueSet: boolean } | null;
  timeoutMs: number;
  state: string;
  consecutiveFailures: number;
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** Only when created. */
  secret?: string;
}

export interface RotatedSecret {
  id: string;
  secret: string;
  previousSecretExpiresAt: string | null;
}

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
  forwardState: string;
}

export interface EventPage {
  events: EventSummary[];
  nextCursor: string | null;
}

export interface Attempt {
  attempt: number;
  attemptedAt: string | null;
  status: number | null;
  latencyMs: number;
  outcome: string;
  error: string | null;
  jobId: string | null;
}

export interface Delivery {
  destinationId: string;
  destinationName: string | null;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  jobId: string | null;
  attemptLog: Attempt[];
}

export interface EventDetail extends EventSummary {
  eventHookId: string | null;
  envelopeEventId: string | null;
  payload: unknown;
  deliveries: Delivery[];
}

export interface ReplayJob {
  id: string;
  kind: string;
  state: string;
  eventUuid: string | null;
  filter: Record<string, string | null> | null;
  destinationId: string | null;
  ratePerSecond: number;
  progress: { matched: number; enqueued: number; skipped: number; delivered: number; failed: number; scanned: number | null };
  createdAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
}

export interface DryRun {
  dryRun: true;
  events: number;
  destinations: Array<{ destinationId: string; name: string; events: number; exact: boolean }>;
  complete: boolean;
}

export interface DeadLetter {
  destinationId: string;
  destinationName: string | null;
  eventUuid: string;
  eventType: string | null;
  reason: string;
  attempts: number;
  recordedAt: string;
}

export interface DeadLetterDetail extends DeadLetter {
  event: { uuid: string; eventType: string; forwardState: string } | null;
  deliveries: Delivery[];
}

export interface Rule {
  id: string;
  kind: string;
  hookType: string;
  name?: string;
  priority: number;
  enabled: boolean;
  definition: unknown;
}

export interface StatsOverview {
  d1: { sizeBytes: number | null; limitBytes: number; usedPercent: number | null };
  events: { oldestReceivedAt: string | null; newestReceivedAt: string | null; receivedLast24Hours: number };
  outbox: { batches: number; oldestCreatedAt: string | null };
  retention: { eventDays: number; deadLetterDays: number; inlineCallDays: number; statsDays: number; archive: boolean };
}

export interface EventStats {
  bucket: string;
  since: string;
  until: string;
  total: number;
  eventTypes: Array<{ eventType: string; count: number }>;
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

export interface InlineCall {
  type: string;
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

export interface InlineTypeStats {
  type: string;
  calls: number;
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
