/**
 * The pure parts of alerts: the `gateway.alert` event text (src/forwarding/alert-event.ts) and the backlog rule
 * /healthz and the cron share (src/forwarding/backlog.ts).
 */
import { describe, expect, it } from "vitest";
import { alertEventText, alertUuid, type AlertForDelivery } from "../../src/forwarding/alert-event";
import { backlogLateness } from "../../src/forwarding/backlog";

const KEY = "0123456789abcdef0123456789abcdef";
const RAISED = Date.UTC(2026, 11, 1, 10, 15, 0);

function event(alert: Partial<AlertForDelivery>) {
  return JSON.parse(alertEventText({ key: KEY, kind: "backlog.late", subject: "backlog", raisedAt: RAISED, details: "{}", ...alert }));
}

describe("alertEventText", () => {
  it("a backlog alert names both parts of the backlog when both are late", () => {
    const body = event({ details: JSON.stringify({ outboxOldestAgeSeconds: 1260, overdueOldestAgeSeconds: 3600, lateAfterMinutes: 15 }) });
    expect(body).toEqual({
      uuid: "01234567-89ab-cdef-0123-456789abcdef",
      published: "2026-12-01T10:15:00.000Z",
      eventType: "gateway.alert",
      severity: "WARN",
      displayMessage:
        "Forwarding is behind: the oldest batch not fanned out is 21 minutes old; the oldest delivery is 60 minutes past its scheduled attempt (late after 15 minutes, ALERT_BACKLOG_MINUTES)",
      kind: "backlog.late",
      subject: { type: "backlog", id: "backlog" },
      reason:
        "the oldest batch not fanned out is 21 minutes old; the oldest delivery is 60 minutes past its scheduled attempt (late after 15 minutes, ALERT_BACKLOG_MINUTES)",
      raisedAt: "2026-12-01T10:15:00.000Z",
      figures: { outboxOldestAgeSeconds: 1260, overdueOldestAgeSeconds: 3600, lateAfterMinutes: 15 },
    });
  });

  it("details it cannot read still make a valid alert, saying less, never throwing", () => {
    for (const details of ["not json", "[]", '{"destinationName": 5}']) {
      expect(event({ kind: "destination.disabled", subject: "dst_0123456789abcdef0123", details })).toMatchObject({
        kind: "destination.disabled",
        severity: "ERROR",
        subject: { type: "destination", id: "dst_0123456789abcdef0123", name: "dst_0123456789abcdef0123" },
        reason: "disabled after consecutive failed attempts",
        figures: { consecutiveFailures: null },
      });
      expect(event({ details })).toMatchObject({ reason: "the backlog is late", figures: { lateAfterMinutes: null } });
    }
  });

  it("quotes a destination name as JSON, whatever it holds", () => {
    const name = 'CRM "prod" \u2028 </script>';
    const text = alertEventText({
      key: KEY,
      kind: "destination.disabled",
      subject: "dst_0123456789abcdef0123",
      raisedAt: RAISED,
      details: JSON.stringify({ destinationName: name, reason: "disabled automatically after 3 consecutive failed attempts", consecutiveFailures: 3 }),
    });
    expect(JSON.parse(text).subject.name).toBe(name);
    expect(alertUuid(KEY)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe("backlogLateness", () => {
  const now = 10_000_000;
  it.each([
    [{ outboxOldestAt: null, overdueOldestAt: null }, { outboxAgeMs: null, overdueAgeMs: null, late: false }],
    [{ outboxOldestAt: now - 900_000, overdueOldestAt: null }, { outboxAgeMs: 900_000, overdueAgeMs: null, late: false }],
    [{ outboxOldestAt: now - 900_001, overdueOldestAt: null }, { outboxAgeMs: 900_001, overdueAgeMs: null, late: true }],
    [{ outboxOldestAt: null, overdueOldestAt: now - 901_000 }, { outboxAgeMs: null, overdueAgeMs: 901_000, late: true }],
    // A clock behind the row's time (another isolate's): not negative, not late.
    [{ outboxOldestAt: now + 5_000, overdueOldestAt: null }, { outboxAgeMs: 0, overdueAgeMs: null, late: false }],
  ])("%j → %j (late after 15 minutes)", (oldest, expected) => {
    expect(backlogLateness(oldest, now, 900_000)).toEqual(expected);
  });
});
