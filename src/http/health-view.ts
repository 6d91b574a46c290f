/**
 * The /healthz answer from what its one D1 round trip read (./health.ts), and the rules of its status
 * (docs/operations.md "Health"):
 *
 * - "down": D1 does not answer (503);
 * - "degraded" when anything needs an operator: a configuration problem, the schema not migrated, D1 at
 *   D1_SIZE_WARN_PERCENT of its limit, a disabled destination, the backlog late (older than ALERT_BACKLOG_MINUTES:
 *   src/forwarding/backlog.ts), ALERT_DESTINATION_ID naming no destination, or one of the newest alerts raised in the
 *   last day that could not be delivered (dead). Each but a disabled destination comes with a problem saying what
 *   is wrong and what to do; disabled destinations are listed with their reason;
 * - "ok" otherwise. Waiting deliveries (a paused destination) and dead letters are reported, not judged: an
 *   operator paused on purpose, and a receiver refusing an event is that receiver's answer.
 *
 * Pure: times and reads are arguments.
 */
import type { Config } from "../config";
import { backlogLateness, type BacklogOldest } from "../forwarding/backlog";
import type { RecentAlertRow } from "../storage/alerts";
import type { DisabledDestinationSummary } from "../storage/destinations";
import type { BacklogCounts } from "../storage/health";

/** A dead alert raised within this time makes the status degraded (older ones are history). */
export const DEAD_ALERT_DEGRADES_MS = 24 * 3_600_000;

export interface HealthReads {
  sizeBytes: number | null;
  disabledDestinations: DisabledDestinationSummary[];
  backlogOldest: BacklogOldest;
  recentAlerts: RecentAlertRow[];
  alertDestination: { id: string; name: string; state: string } | null;
  /** Read for the admin token's answer only. */
  counts: BacklogCounts | null;
  deadLettersLastHour: number | null;
}

export interface HealthInput {
  now: number;
  config: Config;
  configProblems: string[];
  d1: { reachable: boolean; ms: number };
  size: { sizeBytes: number | null; limitBytes: number; usedPercent: number | null };
  sizeWarnPercent: number;
  /** Null when D1 could not be read (down, or not migrated). */
  reads: HealthReads | null;
  countLimit: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
const wholeMinutes = (ms: number) => Math.floor(ms / 60_000);

function backlogProblems(input: HealthInput, reads: HealthReads): string[] {
  const lateAfter = input.config.alerts.backlogLateMs;
  const { outboxAgeMs, overdueAgeMs } = backlogLateness(reads.backlogOldest, input.now, lateAfter);
  const threshold = `late after ${wholeMinutes(lateAfter)} minutes, ALERT_BACKLOG_MINUTES`;
  const problems: string[] = [];
  if (outboxAgeMs !== null && outboxAgeMs > lateAfter) {
    problems.push(
      `Forwarding is behind: the oldest batch not fanned out is ${wholeMinutes(outboxAgeMs)} minutes old (${threshold}); ` +
        "check that the forward queue is consumed (docs/operations.md, Health)",
    );
  }
  if (overdueAgeMs !== null && overdueAgeMs > lateAfter) {
    problems.push(
      `Forwarding is behind: a delivery is ${wholeMinutes(overdueAgeMs)} minutes past its scheduled attempt (${threshold}); ` +
        "check that the forward queue is consumed (docs/operations.md, Health)",
    );
  }
  return problems;
}

function alertProblems(input: HealthInput, reads: HealthReads): string[] {
  const problems: string[] = [];
  if (input.config.alerts.destinationId !== null && reads.alertDestination === null) {
    problems.push("ALERT_DESTINATION_ID names no destination: alerts are raised but cannot be delivered");
  }
  const dead = reads.recentAlerts.find((a) => a.state === "dead" && a.raised_at > input.now - DEAD_ALERT_DEGRADES_MS);
  if (dead) {
    problems.push(
      `An alert could not be delivered to its destination (alert ${dead.id}, ${dead.kind}, raised ${iso(dead.raised_at)}): ` +
        "see alerts.recent for the reason",
    );
  }
  return problems;
}

export function healthAnswer(input: HealthInput) {
  const { reads, size, config } = input;
  const problems = [...input.configProblems];
  if (size.usedPercent !== null && size.usedPercent >= input.sizeWarnPercent) {
    problems.push(
      `D1 holds ${size.usedPercent} % of its ${size.limitBytes / 1e6} MB limit (D1_SIZE_LIMIT_MB): ingest fails when it is full; ` +
        "lower RETENTION_EVENT_DAYS (docs/operations.md, Retention)",
    );
  }
  if (reads) problems.push(...backlogProblems(input, reads), ...alertProblems(input, reads));
  const disabled = reads?.disabledDestinations ?? [];
  const status = !input.d1.reachable ? "down" : problems.length > 0 || disabled.length > 0 ? "degraded" : "ok";

  const oldest = reads?.backlogOldest ?? { outboxOldestAt: null, overdueOldestAt: null };
  const { outboxAgeMs, overdueAgeMs } = backlogLateness(oldest, input.now, config.alerts.backlogLateMs);
  const counts = reads?.counts ?? null;
  return {
    status,
    problems,
    d1: { ...input.d1, ...size },
    disabledDestinations: disabled.map((d) => ({
      id: d.id,
      name: d.name,
      disabledReason: d.disabledReason,
      disabledAt: iso(d.disabledAt),
      consecutiveFailures: d.consecutiveFailures,
    })),
    backlog: {
      lateAfterMinutes: wholeMinutes(config.alerts.backlogLateMs),
      countLimit: input.countLimit,
      outbox: {
        batches: counts?.outboxBatches ?? null,
        oldestAt: iso(oldest.outboxOldestAt),
        oldestAgeSeconds: seconds(outboxAgeMs),
      },
      deliveries: {
        retrying: counts?.retrying ?? null,
        overdue: counts?.overdue ?? null,
        waiting: counts?.waiting ?? null,
        oldestOverdueSince: iso(oldest.overdueOldestAt),
        oldestOverdueSeconds: seconds(overdueAgeMs),
      },
    },
    deadLetters: { lastHour: reads?.deadLettersLastHour ?? null },
    alerts: {
      destinationId: config.alerts.destinationId,
      destination: reads?.alertDestination ? { name: reads.alertDestination.name, state: reads.alertDestination.state } : null,
      cooldownMinutes: wholeMinutes(config.alerts.cooldownMs),
      recent: (reads?.recentAlerts ?? []).map((a) => ({
        id: a.id,
        kind: a.kind,
        subject: a.subject,
        raisedAt: iso(a.raised_at),
        destinationId: a.destination_id,
        state: a.state,
        attempts: a.attempts,
        lastStatus: a.last_status,
        lastError: a.last_error,
        deliveredAt: iso(a.delivered_at),
      })),
    },
  };
}
