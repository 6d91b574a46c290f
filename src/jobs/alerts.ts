/**
 * The alert cron (every five minutes, before the outbox sweep; docs/operations.md "Alerts"), when
 * ALERT_DESTINATION_ID is set:
 *
 * - raises a `backlog.late` alert when the oldest outbox batch, or the delivery longest past its attempt, is older
 *   than ALERT_BACKLOG_MINUTES (the rule /healthz uses: src/forwarding/backlog.ts) — at most once per cooldown,
 *   so a backlog that stays late is a reminder, not a message per run. It looks before the sweep: the sweep
 *   re-sends deliveries more than 10 minutes overdue and marks them due now, so an overdue delivery stays late only
 *   while the sweep itself is not running; a consumer that stopped shows first in the outbox, whose age the sweep
 *   never resets;
 * - sends again the alerts whose queue message was lost (an enqueue that failed after the raise committed, a
 *   message the platform dead-lettered, local queues lost on restart): due more than LOST_ALERT_GRACE_MS ago;
 * - deletes finished alerts older than ALERT_RETENTION_DAYS, a page at a time.
 *
 * Bounded: two or three statements in at most two round trips, a few rows each (both reads go through an index:
 * src/storage/health.ts, src/storage/alerts.ts). A failure logs at error level and rethrows, so the cron
 * invocation fails visibly (after the other scheduled work ran).
 */
import { getConfig } from "../config";
import type { Env } from "../env";
import { BACKLOG_SUBJECT, type BacklogLateDetails } from "../forwarding/alert-event";
import { backlogLateness } from "../forwarding/backlog";
import { describeError, log } from "../log";
import { alertTarget, dispatchRaisedAlerts } from "../queue/alert-raise";
import { enqueueAlerts } from "../queue/enqueue";
import { purgeAlertsStatement, raiseAlertStatement, raisedAlerts, takeLostAlertsStatement, type RaisedAlert } from "../storage/alerts";
import { allRows } from "../storage/d1";
import { backlogOldestStatement, readBacklogOldest } from "../storage/health";

/** An alert still due this long after its time lost its queue message (a due alert is sent within seconds). */
export const LOST_ALERT_GRACE_MS = 10 * 60_000;
/** Most lost alerts sent again per run. */
export const LOST_ALERT_LIMIT = 100;
/** Finished alerts (delivered or dead) are kept this long: /healthz lists the newest, D1 holds the history. */
export const ALERT_RETENTION_DAYS = 90;
const PURGE_LIMIT = 500;

export interface AlertCheckResult {
  /** False when ALERT_DESTINATION_ID is blank: nothing was read or raised. */
  enabled: boolean;
  backlogLate: boolean;
  raised: number;
  resent: number;
}

export async function runAlertChecks(env: Env, now: number): Promise<AlertCheckResult> {
  const { config } = getConfig(env);
  const target = alertTarget(config);
  if (target === null) return { enabled: false, backlogLate: false, raised: 0, resent: 0 };
  try {
    const [oldestRead, lostRead] = await env.DB.batch([
      backlogOldestStatement(env.DB, now),
      takeLostAlertsStatement(env.DB, now, LOST_ALERT_GRACE_MS, LOST_ALERT_LIMIT),
      purgeAlertsStatement(env.DB, now - ALERT_RETENTION_DAYS * 86_400_000, PURGE_LIMIT),
    ]);
    const lateness = backlogLateness(readBacklogOldest(oldestRead), now, config.alerts.backlogLateMs);
    let raised: RaisedAlert[] = [];
    if (lateness.late) {
      const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
      const details: BacklogLateDetails = {
        outboxOldestAgeSeconds: seconds(lateness.outboxAgeMs),
        overdueOldestAgeSeconds: seconds(lateness.overdueAgeMs),
        lateAfterMinutes: Math.round(config.alerts.backlogLateMs / 60_000),
      };
      const result = await raiseAlertStatement(env.DB, { kind: "backlog.late", subject: BACKLOG_SUBJECT, details, now, target }).all();
      raised = raisedAlerts([result]);
    }
    const lost = allRows<{ id: number }>(lostRead);
    await dispatchRaisedAlerts(env.FORWARD_QUEUE, raised);
    // A failed send fails the run; the alerts stay due and the next run takes them again.
    await enqueueAlerts(env.FORWARD_QUEUE, lost.map((row) => row.id));
    const result = { enabled: true, backlogLate: lateness.late, raised: raised.length, resent: lost.length };
    log(result.raised + result.resent > 0 ? "warn" : "info", "alert check", {
      ...result,
      outboxAgeSeconds: lateness.outboxAgeMs === null ? undefined : Math.floor(lateness.outboxAgeMs / 1000),
      overdueAgeSeconds: lateness.overdueAgeMs === null ? undefined : Math.floor(lateness.overdueAgeMs / 1000),
    });
    return result;
  } catch (error) {
    log("error", "alert check failed", { error: describeError(error) });
    throw error;
  }
}
