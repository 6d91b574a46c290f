/**
 * Test helpers for alerts: the rows of `alerts`, the configuration that turns them on, and an alert request as the
 * alert destination received it, verified with the `standardwebhooks` package (an implementation independent of
 * ours) before anything is read from it.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, vi } from "vitest";
import type { Env } from "../../src/env";
import { BACKLOG_SUBJECT } from "../../src/forwarding/alert-event";
import { raiseAlertStatement, raisedAlerts } from "../../src/storage/alerts";
import { clearForwarding, type CapturedRequest } from "./forwarding";

export interface AlertRowView {
  id: number;
  alert_key: string;
  kind: string;
  subject: string;
  raised_at: number;
  details: string;
  destination_id: string;
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

export async function alertRows(): Promise<AlertRowView[]> {
  const { results } = await env.DB.prepare("SELECT * FROM alerts ORDER BY id").all<AlertRowView>();
  return results;
}

export async function clearAlerts(): Promise<void> {
  await env.DB.prepare("DELETE FROM alerts").run();
}

/** Each test of the file starts with no destination, delivery or alert, and ends with fetch and spies restored. */
export function startEachTestClean(): void {
  beforeEach(async () => {
    await clearForwarding();
    await clearAlerts();
  });
  afterEach(() => {
    // vitest's restoreMocks is off: restore the fetch spy by hand.
    (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.();
    vi.restoreAllMocks();
  });
}

/** Alerts on, to `destinationId`, with a destination disabled after `disableAfter` consecutive failures (the count alone). */
export function alertsOn(destinationId: string, disableAfter = 3, extra: Partial<Env> = {}): Partial<Env> {
  return { ALERT_DESTINATION_ID: destinationId, DESTINATION_DISABLE_AFTER_FAILURES: String(disableAfter), DESTINATION_DISABLE_AFTER_MINUTES: "0", ...extra };
}

export interface ReceivedAlert {
  type: string;
  timestamp: string;
  data: {
    uuid: string;
    published: string;
    eventType: string;
    severity: string;
    displayMessage: string;
    kind: string;
    subject: { type: string; id: string; name?: string };
    reason: string;
    raisedAt: string;
    figures: Record<string, number | null>;
  };
}

/** The request's Standard Webhooks signature checked with `secret` (throws when it does not verify), then its body. */
export function verifiedAlert(request: CapturedRequest, secret: string): ReceivedAlert {
  return new Webhook(secret).verify(request.body, {
    "webhook-id": request.headers.get("webhook-id") ?? "",
    "webhook-timestamp": request.headers.get("webhook-timestamp") ?? "",
    "webhook-signature": request.headers.get("webhook-signature") ?? "",
  }) as ReceivedAlert;
}

/** A backlog alert raised now for `destinationId`, as the cron raises it; answers its id. */
export async function raiseBacklogAlert(destinationId: string): Promise<number> {
  const result = await raiseAlertStatement(env.DB, {
    kind: "backlog.late",
    subject: BACKLOG_SUBJECT,
    details: { outboxOldestAgeSeconds: 1260, overdueOldestAgeSeconds: null, lateAfterMinutes: 15 },
    now: Date.now(),
    target: { destinationId, cooldownMs: 3_600_000 },
  }).all();
  return raisedAlerts([result])[0]!.id;
}
