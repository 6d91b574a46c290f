/**
 * Raising alerts where the condition happens (docs/operations.md "Alerts"), and handing them to the forward queue.
 *
 * - `destinationDisabledAlertStatement`: the statement that raises the destination.disabled alert, for the
 *   transaction that counts a destination's failed attempts (fan-out and retries). It raises only when that count
 *   disabled the destination, so a disable gets exactly one alert in the same commit; null when alerts are off
 *   (ALERT_DESTINATION_ID blank), so forwarding then runs exactly the statements it always did.
 * - `dispatchRaisedAlerts`: after that commit, one {kind:"alert"} message per raised alert. It never throws: an
 *   alert must not break forwarding. A failed send leaves the alert due in D1, and the cron sends it
 *   (src/jobs/alerts.ts), so it is late, never lost.
 */
import type { Config } from "../config";
import { describeError, log } from "../log";
import { raiseDestinationDisabledStatement, type AlertTarget, type RaisedAlert } from "../storage/alerts";
import { enqueueAlerts } from "./enqueue";
import type { ForwardMessage } from "./messages";

/** Where alerts go, or null when they are off. */
export function alertTarget(config: Config): AlertTarget | null {
  const { destinationId, cooldownMs } = config.alerts;
  return destinationId === null ? null : { destinationId, cooldownMs };
}

/**
 * The destination.disabled alert statement for `failuresCounted` failures just counted against `destinationId` at
 * `now` (the same `now` the failure count was written with), or null when alerts are off.
 */
export function destinationDisabledAlertStatement(
  db: D1Database,
  config: Config,
  destinationId: string,
  failuresCounted: number,
  now: number,
): D1PreparedStatement | null {
  const target = alertTarget(config);
  if (target === null) return null;
  return raiseDestinationDisabledStatement(db, {
    destinationId,
    disableAfter: config.forwarding.disableAfterFailures,
    failuresCounted,
    now,
    target,
  });
}

/** Log and enqueue what was raised. Never throws. */
export async function dispatchRaisedAlerts(queue: Queue<ForwardMessage>, raised: readonly RaisedAlert[]): Promise<void> {
  if (raised.length === 0) return;
  for (const alert of raised) log("warn", "alert raised", { alertId: alert.id, kind: alert.kind, subject: alert.subject });
  try {
    await enqueueAlerts(queue, raised.map((alert) => alert.id));
  } catch (error) {
    log("warn", "alert enqueue failed; the cron sends it", { alertIds: raised.map((a) => String(a.id)), error: describeError(error) });
  }
}
