/**
 * The alert cron (docs/operations.md "Alerts"), run through the Worker's scheduled handler with a controlled clock
 * (the controller's scheduledTime): a backlog older than ALERT_BACKLOG_MINUTES raises one backlog.late alert per
 * cooldown, sent signed to the alert destination; alerts whose queue message was lost are sent again; finished
 * alerts are purged after ALERT_RETENTION_DAYS; with alerts off it reads nothing; and a failing alert check still
 * lets the outbox sweep run, then fails the invocation.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { ALERT_RETENTION_DAYS, LOST_ALERT_GRACE_MS } from "../../src/jobs/alerts";
import type { ForwardMessage } from "../../src/queue/messages";
import { alertRows, alertsOn, clearAlerts, startEachTestClean, verifiedAlert } from "../helpers/alerts";
import {
  consume,
  createDestination,
  envWith,
  FORWARD_QUEUE_NAME,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  stubDestinations,
  batchOf,
  type CapturedRequest,
  type RecordingQueue,
} from "../helpers/forwarding";

const MIN = 60_000;
const ALERT_URL = "https://alerts.example.com/hook";

startEachTestClean();

/** One five-minute cron run at `at` with these overrides; what it sent to the forward queue. */
async function cronAt(at: number, overrides: Partial<Env> = {}): Promise<{ sent: ForwardMessage[]; error?: unknown }> {
  const queue = recordingQueue<ForwardMessage>();
  const ctx = createExecutionContext();
  let error: unknown;
  try {
    await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/5 * * * *" }), envWith({ FORWARD_QUEUE: queue, ...overrides }), ctx);
  } catch (e) {
    error = e;
  }
  await waitOnExecutionContext(ctx);
  return { sent: queue.sent, error };
}

const alertsIn = (sent: ForwardMessage[]) => sent.filter((m) => m.kind === "alert");

async function addOutboxBatch(batchId: number, createdAt: number) {
  await env.DB.prepare("INSERT INTO forward_outbox (batch_id, created_at, enqueued_at) VALUES (?1, ?2, ?2)").bind(batchId, createdAt).run();
}

async function alertTarget() {
  const target = await createDestination({ name: "on-call", url: ALERT_URL, eventTypes: ["gateway.alert"] });
  const received: CapturedRequest[] = [];
  stubDestinations((request) => {
    received.push(request);
    return new Response(null, { status: 204 });
  });
  return { target, received };
}

describe("a late backlog", () => {
  it("raises one backlog.late alert, sent signed with the ages it found", async () => {
    const { target, received } = await alertTarget();
    const t0 = Date.now();
    // Stored twenty-one minutes ago and still not fanned out (the queue is not consumed).
    await addOutboxBatch(900, t0 - 21 * MIN);
    const { sent, error } = await cronAt(t0, alertsOn(target.id));
    expect(error).toBeUndefined();
    const alerts = await alertRows();
    expect(alerts).toEqual([
      expect.objectContaining({ kind: "backlog.late", subject: "backlog", destination_id: target.id, state: "pending", raised_at: t0 }),
    ]);
    expect(JSON.parse(alerts[0]!.details)).toEqual({ outboxOldestAgeSeconds: 21 * 60, overdueOldestAgeSeconds: null, lateAfterMinutes: 15 });
    expect(alertsIn(sent)).toEqual([{ kind: "alert", alertId: alerts[0]!.id }]);

    await consume(FORWARD_QUEUE_NAME, alertsIn(sent));
    expect(received).toHaveLength(1);
    const alert = verifiedAlert(received[0]!, target.secret);
    expect(alert).toMatchObject({
      type: "gateway.alert",
      data: {
        eventType: "gateway.alert",
        severity: "WARN",
        kind: "backlog.late",
        subject: { type: "backlog", id: "backlog" },
        reason: "the oldest batch not fanned out is 21 minutes old (late after 15 minutes, ALERT_BACKLOG_MINUTES)",
        figures: { outboxOldestAgeSeconds: 1260, overdueOldestAgeSeconds: null, lateAfterMinutes: 15 },
        raisedAt: new Date(t0).toISOString(),
      },
    });
  });

  it("a delivery long past its attempt is late too; its age is reported", async () => {
    const { target } = await alertTarget();
    const t0 = Date.now();
    await env.DB.prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at)
       VALUES ('overdue-1', ?1, 'failed', 2, ?2, ?2, ?2)`,
    )
      .bind(target.id, t0)
      .run();
    await cronAt(t0 + 40 * MIN, alertsOn(target.id));
    const [alert] = await alertRows();
    expect(JSON.parse(alert!.details)).toEqual({ outboxOldestAgeSeconds: null, overdueOldestAgeSeconds: 40 * 60, lateAfterMinutes: 15 });
  });

  it("once per ALERT_COOLDOWN_MINUTES while it stays late; nothing when the backlog is younger than ALERT_BACKLOG_MINUTES", async () => {
    const { target } = await alertTarget();
    const t0 = Date.now();
    await addOutboxBatch(901, t0);
    const raisedAt = async () => (await alertRows()).map((a) => a.raised_at);
    await cronAt(t0 + 10 * MIN, alertsOn(target.id));
    expect(await raisedAt()).toEqual([]);
    await cronAt(t0 + 16 * MIN, alertsOn(target.id));
    await cronAt(t0 + 21 * MIN, alertsOn(target.id));
    await cronAt(t0 + 75 * MIN, alertsOn(target.id));
    expect(await raisedAt()).toEqual([t0 + 16 * MIN]);
    await cronAt(t0 + 77 * MIN, alertsOn(target.id));
    expect(await raisedAt()).toEqual([t0 + 16 * MIN, t0 + 77 * MIN]);
    // A longer threshold and a shorter cooldown, from configuration.
    await clearAlerts();
    const tuned = alertsOn(target.id, 3, { ALERT_BACKLOG_MINUTES: "30", ALERT_COOLDOWN_MINUTES: "5" });
    await cronAt(t0 + 25 * MIN, tuned);
    expect(await raisedAt()).toEqual([]);
    await cronAt(t0 + 31 * MIN, tuned);
    await cronAt(t0 + 34 * MIN, tuned);
    await cronAt(t0 + 37 * MIN, tuned);
    expect(await raisedAt()).toEqual([t0 + 31 * MIN, t0 + 37 * MIN]);
  });

  it("with ALERT_DESTINATION_ID blank, nothing is raised", async () => {
    const t0 = Date.now();
    await addOutboxBatch(902, t0);
    const { sent, error } = await cronAt(t0 + 60 * MIN);
    expect(error).toBeUndefined();
    expect(alertsIn(sent)).toEqual([]);
    expect(await alertRows()).toEqual([]);
  });
});

describe("alerts whose message was lost", () => {
  it("a disable alert whose enqueue failed is sent by the cron once it is overdue, and only once per grace", async () => {
    const target = await createDestination({ name: "on-call", url: ALERT_URL, eventTypes: ["gateway.alert"] });
    const crm = await createDestination({ name: "crm", url: "https://crm.example.com/okta" });
    stubDestinations(() => new Response(null, { status: 503 }));
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}, {}]);
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    // A queue that takes delivery retries but refuses alert messages.
    const queue = recordingQueue<ForwardMessage>() as RecordingQueue<ForwardMessage>;
    const sendBatch = queue.sendBatch.bind(queue);
    queue.sendBatch = async (messages) => {
      const list = [...messages];
      if (list.some((m) => m.body.kind === "alert")) throw new Error("Queue sendBatch failed (simulated)");
      return sendBatch(list);
    };
    // Two failed attempts counted before: this fan-out's (one per batch) is the third, which disables it.
    await env.DB.prepare("UPDATE destinations SET consecutive_failures = 2 WHERE id = ?1").bind(crm.id).run();
    const { result } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await batchOf(uuids[0]!) }], {
      env: { ...alertsOn(target.id, 3), FORWARD_QUEUE: queue },
    });
    // Forwarding went on: the batch is acknowledged and its retries enqueued.
    expect(result.explicitAcks).toHaveLength(1);
    expect(queue.sent.filter((m) => m.kind === "delivery")).toHaveLength(3);
    const [alert] = await alertRows();
    expect(alert).toMatchObject({ kind: "destination.disabled", subject: crm.id, state: "pending" });

    const t0 = alert!.raised_at;
    expect(alertsIn((await cronAt(t0 + LOST_ALERT_GRACE_MS - MIN, alertsOn(target.id))).sent)).toEqual([]);
    expect(alertsIn((await cronAt(t0 + LOST_ALERT_GRACE_MS + MIN, alertsOn(target.id))).sent)).toEqual([{ kind: "alert", alertId: alert!.id }]);
    // Marked due then: the next run leaves it to that message.
    expect(alertsIn((await cronAt(t0 + LOST_ALERT_GRACE_MS + 6 * MIN, alertsOn(target.id))).sent)).toEqual([]);
  });
});

describe("housekeeping and failure", () => {
  it(`deletes finished alerts older than ${ALERT_RETENTION_DAYS} days, keeps the rest`, async () => {
    const { target } = await alertTarget();
    const now = Date.now();
    const old = now - (ALERT_RETENTION_DAYS + 1) * 86_400_000;
    for (const [state, raisedAt] of [["delivered", old], ["dead", old], ["failed", old], ["delivered", now - MIN]] as const) {
      await env.DB.prepare(
        `INSERT INTO alerts (alert_key, kind, subject, raised_at, details, destination_id, state, next_attempt_at, updated_at)
         VALUES (lower(hex(randomblob(16))), 'backlog.late', 'backlog', ?1, '{}', ?2, ?3, ?4, ?1)`,
      )
        .bind(raisedAt, target.id, state, state === "failed" ? now + MIN : null)
        .run();
    }
    await cronAt(now, alertsOn(target.id));
    expect((await alertRows()).map((a) => a.state)).toEqual(["failed", "delivered"]);
  });

  it("a failing alert check leaves the outbox sweep's work done and fails the invocation", async () => {
    const { target } = await alertTarget();
    const t0 = Date.now();
    await addOutboxBatch(903, t0 - 40 * MIN);
    await env.DB.exec("ALTER TABLE alerts RENAME TO alerts_away");
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const { sent, error } = await cronAt(t0, alertsOn(target.id));
      expect(error).toBeDefined();
      // The sweep re-enqueued the batch whose message was lost.
      expect(sent).toContainEqual({ kind: "batches", batchIds: [903] });
      expect(errors.mock.calls.map((c) => JSON.parse(String(c[0])).msg)).toContain("alert check failed");
    } finally {
      await env.DB.exec("ALTER TABLE alerts_away RENAME TO alerts");
    }
  });
});
