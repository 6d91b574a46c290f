/**
 * Retention and replay or redrive jobs at the same time, through the real routes, cron and queue handler: a running
 * job still needs the events it has not reached yet (a backfill of a new destination walks history newest first,
 * at its rate, so over days its oldest events cross RETENTION_EVENT_DAYS before it gets there), and retention must
 * not purge them under it. Once the job is over they go with the next run.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { RETENTION_CRON } from "../../src/jobs/retention";
import type { ForwardMessage } from "../../src/queue/messages";
import {
  adminCall,
  attempt,
  clearForwarding,
  consume,
  createDestination,
  envWith,
  FORWARD_QUEUE_NAME,
  recordingQueue,
  stubDestinations,
} from "../helpers/forwarding";
import { clearEventStore, DAY_MS, eventText, storeAt, storedIds } from "../helpers/stored-events";

const OLD = Date.now() - 40 * DAY_MS;

beforeEach(async () => {
  await clearForwarding();
  await clearEventStore();
  await env.DB.prepare("DELETE FROM replay_jobs").run();
});
afterEach(() => vi.restoreAllMocks());

/** The hourly retention cron, now. */
async function retention() {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: RETENTION_CRON, scheduledTime: Date.now() }), env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
}

/** Run job steps through the consumer (the given first messages, then each next step), then attempt every delivery. */
async function runJob(first: ForwardMessage[]) {
  let steps = first.filter((m) => m.kind === "replay");
  const deliveries = first.filter((m) => m.kind === "delivery");
  for (let i = 0; steps.length > 0; i++) {
    expect(i, "steps").toBeLessThan(50);
    const { forwarded } = await consume(FORWARD_QUEUE_NAME, steps);
    steps = forwarded.filter((m) => m.kind === "replay");
    deliveries.push(...forwarded.filter((m) => m.kind === "delivery"));
  }
  for (const m of deliveries) if (m.kind === "delivery") await attempt(m.uuid, m.destinationId);
}

describe("retention keeps what a running job has not reached yet", () => {
  it("a filter replay (a backfill) that retention runs into still sends every event it selected", async () => {
    const old = await storeAt(OLD, Array.from({ length: 12 }, () => eventText()));
    await storeAt(Date.now() - 1000, [eventText()]); // the newest: never purged anyway
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const destination = await createDestination({ name: "new receiver" });

    const queue = recordingQueue<ForwardMessage>();
    const started = await adminCall("POST", "/replays", { filter: {}, destinationId: destination.id, ratePerSecond: 1 }, envWith({ FORWARD_QUEUE: queue }));
    expect(started.status).toBe(202);
    const job = (await started.json()) as { id: string };

    // The first step (five events, newest first) runs, then the hourly retention before the job gets further.
    const { forwarded } = await consume(FORWARD_QUEUE_NAME, queue.sent);
    await retention();
    expect((await storedIds()).length, "events left after retention").toBe(13);

    await runJob(forwarded);
    const progress = (await (await adminCall("GET", `/replays/${job.id}`)).json()) as { state: string; progress: { matched: number; delivered: number } };
    expect(progress.state).toBe("finished");
    expect(progress.progress).toMatchObject({ matched: 13, delivered: 13 });
    const sentUuids = new Set(captured.map((r) => (JSON.parse(r.body) as { data: { uuid: string } }).data.uuid));
    for (const uuid of old.inserted) expect(sentUuids, uuid).toContain(uuid);

    // The job is over: the old events go with the next run (their replayed deliveries are delivered).
    await retention();
    expect((await storedIds()).length).toBe(1);
  });

  it("a cancelled replay holds nothing", async () => {
    await storeAt(OLD, Array.from({ length: 3 }, () => eventText()));
    await storeAt(Date.now() - 1000, [eventText()]);
    const destination = await createDestination({ name: "new receiver" });
    const started = await adminCall("POST", "/replays", { filter: {}, destinationId: destination.id }, envWith({ FORWARD_QUEUE: recordingQueue() }));
    const job = (await started.json()) as { id: string };
    expect((await adminCall("POST", `/replays/${job.id}/cancel`)).status).toBe(200);
    await retention();
    expect((await storedIds()).length).toBe(1);
  });

  it("a redrive of every dead letter of a destination still finds the events of the letters it has not reached", async () => {
    const old = await storeAt(OLD, Array.from({ length: 3 }, () => eventText()));
    await storeAt(Date.now() - 1000, [eventText()]);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const destination = await createDestination({ name: "fixed receiver" });
    const now = Date.now();
    for (const uuid of old.inserted) {
      await env.DB.batch([
        env.DB.prepare(
          `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, created_at, updated_at) VALUES (?1, ?2, 'dead', 1, ?3, ?3)`,
        ).bind(uuid, destination.id, now),
        env.DB.prepare(
          `INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES (?1, ?2, 'HTTP 404', 1, ?3)`,
        ).bind(uuid, destination.id, now),
      ]);
    }
    const queue = recordingQueue<ForwardMessage>();
    const started = await adminCall("POST", "/dead-letters/redrive", { destinationId: destination.id }, envWith({ FORWARD_QUEUE: queue }));
    expect(started.status).toBe(202);

    await retention(); // before the job's first step
    expect((await storedIds()).length, "events left after retention").toBe(4);

    await runJob(queue.sent);
    expect(captured.map((r) => (JSON.parse(r.body) as { data: { uuid: string } }).data.uuid).sort()).toEqual([...old.inserted].sort());
  });
});
