/**
 * The `gateway.alert` event (docs/operations.md "Alerts"): what the alert destination receives when a destination
 * is disabled after consecutive failures or the backlog is late. It is sent like any forwarded event — the same
 * formats, signature and headers (./payload.ts, ./signing.ts) — so this module only builds the event's JSON text:
 * in the `standard` format it is the body's `data` (`type` is `gateway.alert`), in the `okta` format the one
 * element of `data.events[]`.
 *
 * The object carries the LogEvent fields a System Log receiver reads first (`uuid`, `published`, `eventType`,
 * `severity`, `displayMessage`), so an Okta-format receiver does not choke on it, and then the alert itself:
 * `kind`, `subject` (what it is about), `reason`, `raisedAt` and `figures`. It is built from what the alert row
 * recorded when it was raised — names, counts, ages and reasons the gateway wrote itself — and never holds a
 * secret, a destination URL (its path may hold a token) or an event's payload.
 *
 * Pure: no D1, no clock.
 */
import * as z from "zod";

export const ALERT_EVENT_TYPE = "gateway.alert";

export type AlertKind = "destination.disabled" | "backlog.late";
export const ALERT_KINDS: readonly AlertKind[] = ["destination.disabled", "backlog.late"];
/** The subject of every backlog alert: there is one backlog. */
export const BACKLOG_SUBJECT = "backlog";

/** What a destination.disabled alert records (built in SQL from the destination row when it was disabled). */
export const destinationDisabledDetailsSchema = z.object({
  destinationName: z.string(),
  reason: z.string().nullable(),
  consecutiveFailures: z.number().int(),
});
export type DestinationDisabledDetails = z.infer<typeof destinationDisabledDetailsSchema>;

/** What a backlog.late alert records: the ages when it was raised (null: that part had nothing waiting). */
export const backlogLateDetailsSchema = z.object({
  outboxOldestAgeSeconds: z.number().int().nullable(),
  overdueOldestAgeSeconds: z.number().int().nullable(),
  lateAfterMinutes: z.number().int(),
});
export type BacklogLateDetails = z.infer<typeof backlogLateDetailsSchema>;

export interface AlertForDelivery {
  /** 32 hex digits, random per alert: the event's uuid and (through ./signing.ts) its webhook-id derive from it. */
  key: string;
  kind: AlertKind;
  /** The destination id, or BACKLOG_SUBJECT. */
  subject: string;
  /** Epoch ms. */
  raisedAt: number;
  /** The row's `details` JSON text. */
  details: string;
}

/** A UUID-shaped id from the alert's 32 hex digits (Okta's LogEvent uuid is a UUID). */
export function alertUuid(key: string): string {
  return `${key.slice(0, 8)}-${key.slice(8, 12)}-${key.slice(12, 16)}-${key.slice(16, 20)}-${key.slice(20, 32)}`;
}

function parseDetails<S extends z.ZodType>(schema: S, text: string): z.infer<S> | null {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function minutes(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m === 1 ? "1 minute" : `${m} minutes`;
}

interface AlertContent {
  severity: "ERROR" | "WARN";
  displayMessage: string;
  subject: Record<string, string>;
  reason: string;
  figures: Record<string, number | null>;
}

function destinationDisabledContent(alert: AlertForDelivery): AlertContent {
  const details = parseDetails(destinationDisabledDetailsSchema, alert.details);
  const name = details?.destinationName ?? alert.subject;
  const reason = details?.reason ?? "disabled after consecutive failed attempts";
  return {
    severity: "ERROR",
    displayMessage: `Destination "${name}" (${alert.subject}) was disabled: ${reason}; its deliveries wait until it is re-enabled`,
    subject: { type: "destination", id: alert.subject, name },
    reason,
    figures: { consecutiveFailures: details?.consecutiveFailures ?? null },
  };
}

function backlogLateContent(alert: AlertForDelivery): AlertContent {
  const details = parseDetails(backlogLateDetailsSchema, alert.details);
  const parts: string[] = [];
  if (details?.outboxOldestAgeSeconds != null) parts.push(`the oldest batch not fanned out is ${minutes(details.outboxOldestAgeSeconds)} old`);
  if (details?.overdueOldestAgeSeconds != null) {
    parts.push(`the oldest delivery is ${minutes(details.overdueOldestAgeSeconds)} past its scheduled attempt`);
  }
  const threshold = details ? ` (late after ${details.lateAfterMinutes} minutes, ALERT_BACKLOG_MINUTES)` : "";
  const reason = `${parts.length > 0 ? parts.join("; ") : "the backlog is late"}${threshold}`;
  return {
    severity: "WARN",
    displayMessage: `Forwarding is behind: ${reason}`,
    subject: { type: "backlog", id: BACKLOG_SUBJECT },
    reason,
    figures: {
      outboxOldestAgeSeconds: details?.outboxOldestAgeSeconds ?? null,
      overdueOldestAgeSeconds: details?.overdueOldestAgeSeconds ?? null,
      lateAfterMinutes: details?.lateAfterMinutes ?? null,
    },
  };
}

/** The alert as the JSON text of one event (what ./payload.ts splices into the body). */
export function alertEventText(alert: AlertForDelivery): string {
  const content = alert.kind === "destination.disabled" ? destinationDisabledContent(alert) : backlogLateContent(alert);
  const raisedAt = new Date(alert.raisedAt).toISOString();
  return JSON.stringify({
    uuid: alertUuid(alert.key),
    published: raisedAt,
    eventType: ALERT_EVENT_TYPE,
    severity: content.severity,
    displayMessage: content.displayMessage,
    kind: alert.kind,
    subject: content.subject,
    reason: content.reason,
    raisedAt,
    figures: content.figures,
  });
}
