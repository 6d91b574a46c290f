/**
 * /admin/api/replays against real local D1: a one-event replay to every destination whose filter matches now (or
 * to one), sent signed with its own webhook-id and the original's in okta-hooks-edge-replay-of; a filter replay
 * counted first (dryRun, checked against a brute-force count), then run step by step through the queue at its rate;
 * backfill of events stored before a destination existed; deliveries still in progress left alone; cancel;
 * duplicate step messages; the job sweep; bad input and the security group.
 */
import { createScheduledController, createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deliveryMessageId, replayMessageId, signV1 } from "../../src/forwarding/signing";
import { REPLAY_OF_HEADER } from "../../src/forwarding/payload";
import worker from "../../src/index";
import type { ForwardMessage } from "../../src/queue/messages";
import { matchesEventType } from "../../src/okta/routing";
import {
  adminCall,
  attempt,
  clearForwarding,
  consume,
  createDestination,
  deliveryRow,
  envWith,
  fanOut,
  FORWARD_QUEUE_NAME,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  stubDestinations,
  type CapturedRequest,
} from "../helpers/forwarding";
import { clearEvents, seedEvents, type SeededEvent } from "../helpers/events";
import { request } from "../helpers/gateway";

beforeEach(async () => {
  await clearForwarding();
  await clearEvents();
  await env.DB.prepare("DELETE FROM replay_jobs").run();
});
afterEach(() => (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.());

interface JobView {
  id: string;
  kind: string;
  state: string;
  eventUuid: string | null;
  filter: Record<string, unknown> | null;
  destinationId: string | null;
  ratePerSecond: number;
  progress: { matched: number; enqueued: number; skipped: number; delivered: number; failed: number; scanned: number | null };
}

/** POST /replays with a recording forward queue: the answer and what it enqueued. */
async function replay(body: unknown) {
  const queue = recordingQueue<ForwardMessage>();
  const res = await adminCall("POST", "/replays", body, envWith({ FORWARD_QUEUE: queue }));
  return { res, json: (await res.json()) as JobView & Record<string, unknown>, sent: queue.sent, delays: queue.delays };
}

async function job(id: string): Promise<JobView> {
  const res = await adminCall("GET", `/replays/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobView;
}

/** Attempt each delivery message (the receiver is whatever fetch is stubbed to). */
async function deliver(messages: ForwardMessage[]) {
  for (const m of messages) if (m.kind === "delivery") await attempt(m.uuid, m.destinationId);
}

/** Run a filter job's steps through the consumer until it stops sending steps; answer every delivery message and step delay. */
async function runSteps(first: ForwardMessage[], maxSteps = 200) {
  const deliveries: ForwardMessage[] = [];
  const stepDelays: Array<number | undefined> = [];
  let pending = first.filter((m) => m.kind === "replay");
  deliveries.push(...first.filter((m) => m.kind === "delivery"));
  for (let i = 0; pending.length > 0; i++) {
    expect(i, "steps").toBeLessThan(maxSteps);
    const { forwarded, forwardedDelays } = await consume(FORWARD_QUEUE_NAME, pending);
    pending = [];
    forwarded.forEach((m, j) => {
      if (m.kind === "replay") {
        pending.push(m);
        stepDelays.push(forwardedDelays[j]);
      } else deliveries.push(m);
    });
  }
  return { deliveries, stepDelays };
}

async function verifySignature(c: CapturedRequest, secret: string) {
  const id = c.headers.get("webhook-id")!;
  const timestamp = Number(c.headers.get("webhook-timestamp"));
  expect(c.headers.get("webhook-signature")).toContain(await signV1(secret, id, timestamp, c.body));
}

describe("one event", () => {
  it("goes again to every destination whose filter matches now, signed, with a replay webhook-id naming the original", async () => {
    const all = await createDestination({ name: "all" });
    const sessions = await createDestination({ name: "sessions", eventTypes: ["user.session.*"] });
    const lifecycle = await createDestination({ name: "lifecycle", eventTypes: ["user.lifecycle.*"] });
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuids[0]!);
    expect(captured).toHaveLength(2);
    const originalIds = new Set(captured.map((c) => c.headers.get("webhook-id")));

    const { res, json, sent } = await replay({ eventUuid: uuids[0] });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`/admin/api/replays/${json.id}`);
    expect(json).toMatchObject({ kind: "replay", state: "finished", eventUuid: uuids[0], destinationId: null });
    expect(json.progress).toMatchObject({ matched: 2, enqueued: 2, skipped: 0, delivered: 0, failed: 0, scanned: 1 });
    expect(sent.map((m) => (m.kind === "delivery" ? m.destinationId : m.kind)).sort()).toEqual([all.id, sessions.id].sort());

    await deliver(sent);
    const replayed = captured.slice(2);
    expect(replayed).toHaveLength(2);
    const jobId = Number(json.id.slice(4));
    for (const c of replayed) expect(originalIds.has(c.headers.get("webhook-id"))).toBe(false);
    for (const d of [all, sessions]) {
      const original = await deliveryMessageId(uuids[0]!, d.id);
      const replayId = await replayMessageId(uuids[0]!, d.id, jobId);
      const request = replayed.find((r) => r.headers.get("webhook-id") === replayId);
      expect(request, d.id).toBeDefined();
      expect(request!.headers.get(REPLAY_OF_HEADER)).toBe(original);
      expect(originalIds.has(original)).toBe(true);
      await verifySignature(request!, d.secret);
      expect(JSON.parse(request!.body).data.uuid).toBe(uuids[0]);
    }
    expect((await job(json.id)).progress).toMatchObject({ matched: 2, enqueued: 2, delivered: 2, failed: 0 });
    expect(await deliveryRow(uuids[0]!, lifecycle.id)).toBeNull();

    // The event's history shows the first attempt and the replay's, tagged with the job.
    const detail = (await (await adminCall("GET", `/events/${uuids[0]}`)).json()) as { deliveries: Array<{ destinationId: string; jobId: string | null; state: string; attemptLog: Array<{ jobId: string | null; outcome: string }> }> };
    const entry = detail.deliveries.find((d) => d.destinationId === all.id)!;
    expect(entry).toMatchObject({ state: "delivered", jobId: json.id });
    expect(entry.attemptLog.map((a) => [a.jobId, a.outcome])).toEqual([
      [null, "delivered"],
      [json.id, "delivered"],
    ]);
  });

  it("to one destination only; a destination whose filter does not match gets nothing", async () => {
    const sessions = await createDestination({ name: "sessions", eventTypes: ["user.session.*"] });
    await createDestination({ name: "other" });
    const lifecycle = await createDestination({ name: "lifecycle", eventTypes: ["user.lifecycle.*"] });
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuids[0]!);

    const one = await replay({ eventUuid: uuids[0], destinationId: sessions.id });
    expect(one.json.progress).toMatchObject({ matched: 1, enqueued: 1 });
    expect(one.sent).toEqual([{ kind: "delivery", uuid: uuids[0], destinationId: sessions.id }]);

    const none = await replay({ eventUuid: uuids[0], destinationId: lifecycle.id });
    expect(none.res.status).toBe(202);
    expect(none.json).toMatchObject({ state: "finished", progress: { matched: 0, enqueued: 0 } });
    expect(none.sent).toEqual([]);
  });

  it("a dead delivery replayed is no longer a dead letter; a delivery still retrying is skipped, not doubled", async () => {
    const dead = await createDestination({ name: "dead", url: "https://dead.example.com/hook" });
    const retrying = await createDestination({ name: "retrying", url: "https://retrying.example.com/hook" });
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    stubDestinations((r) => new Response(null, { status: r.url.includes("dead") ? 400 : 503 }));
    await fanOut(uuids[0]!);
    expect((await deliveryRow(uuids[0]!, dead.id))?.state).toBe("dead");
    expect((await deliveryRow(uuids[0]!, retrying.id))?.state).toBe("failed");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM dead_letters").first("n")).toBe(1);

    const { json, sent } = await replay({ eventUuid: uuids[0] });
    expect(json.progress).toMatchObject({ matched: 2, enqueued: 1, skipped: 1 });
    expect(sent).toEqual([{ kind: "delivery", uuid: uuids[0], destinationId: dead.id }]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM dead_letters").first("n")).toBe(0);
    expect(await deliveryRow(uuids[0]!, dead.id)).toMatchObject({ state: "pending", attempts: 0 });

    // It fails for good again: dead again, counted as failed in the job, and a dead letter again.
    await deliver(sent);
    expect((await deliveryRow(uuids[0]!, dead.id))?.state).toBe("dead");
    expect((await job(json.id)).progress).toMatchObject({ delivered: 0, failed: 1 });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM dead_letters").first("n")).toBe(1);
  });

  it("refuses a loop-guarded event, an event still waiting for fan-out, and an unknown one, changing nothing", async () => {
    await createDestination({});
    const guarded = oktaDelivery("user.session.start", [{ actor: { id: "00uLOOP", type: "User" } }]);
    expect((await postOktaDelivery(guarded.envelope, envWith({ FORWARD_QUEUE: recordingQueue(), IGNORE_ACTOR_IDS: "00uLOOP" }))).status).toBe(204);
    const waiting = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(waiting.envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);

    const loop = await replay({ eventUuid: guarded.uuids[0] });
    expect(loop.res.status).toBe(409);
    expect((loop.json as unknown as { error: { message: string } }).error.message).toMatch(/^eventUuid: .*loop-guarded/);
    const pending = await replay({ eventUuid: waiting.uuids[0] });
    expect(pending.res.status).toBe(409);
    expect((pending.json as unknown as { error: { message: string } }).error.message).toMatch(/^eventUuid: .*waiting for fan-out/);
    const unknown = await replay({ eventUuid: "no-such-event" });
    expect(unknown.res.status).toBe(400);
    expect((unknown.json as unknown as { error: { message: string } }).error.message).toMatch(/^eventUuid: /);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM replay_jobs").first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM deliveries").first("n")).toBe(0);
  });
});

describe("by filter", () => {
  let events: SeededEvent[] = [];
  const FILTER_TYPES = ["user.session.start", "user.lifecycle.create", "user.lifecycle.deactivate", "group.user_membership.add"];

  beforeEach(async () => {
    events = await seedEvents(400, { seed: 11, types: FILTER_TYPES });
  });

  /** Events a replay with this type filter sends to a destination with these patterns and outcomes. */
  const want = (typePrefix: string, patterns: string[], outcomes?: string[]) =>
    events.filter(
      (e) =>
        e.eventType.startsWith(typePrefix) &&
        e.forward !== 0 &&
        !e.pending &&
        matchesEventType(patterns, e.eventType) &&
        (!outcomes || outcomes.includes(e.outcomeResult)),
    );

  it("dryRun counts what each destination would get, exactly, and changes nothing", async () => {
    const lifecycle = await createDestination({ name: "lifecycle", eventTypes: ["user.lifecycle.*"] });
    const failures = await createDestination({ name: "failures", conditions: { outcomeResults: ["FAILURE"] } });
    const actors = await createDestination({ name: "actors", conditions: { actorIds: ["00u0001"] } });
    const { res, json } = await replay({ filter: { type: "user.*" }, dryRun: true });
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ dryRun: true, complete: true, events: want("user.", ["*"]).length });
    const byId = Object.fromEntries((json.destinations as Array<{ destinationId: string }>).map((d) => [d.destinationId, d]));
    expect(byId[lifecycle.id]).toMatchObject({ name: "lifecycle", events: want("user.", ["user.lifecycle.*"]).length, exact: true });
    expect(byId[failures.id]).toMatchObject({ events: want("user.", ["*"], ["FAILURE"]).length, exact: true });
    // Actor conditions are judged when sending: an upper bound.
    expect(byId[actors.id]).toMatchObject({ events: want("user.", ["*"]).length, exact: false });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM replay_jobs").first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM deliveries").first("n")).toBe(0);
  });

  it("runs through the queue step by step at its rate and sends exactly what the dry run counted (a backfill)", async () => {
    // Created after the events were stored: nothing was ever sent to it.
    const lifecycle = await createDestination({ name: "lifecycle", eventTypes: ["user.lifecycle.*"] });
    const dry = await replay({ filter: { type: "user.*" }, destinationId: lifecycle.id, dryRun: true });
    const expected = want("user.", ["user.lifecycle.*"]);
    expect(dry.json.events).toBe(want("user.", ["*"]).length);

    const { res, json, sent } = await replay({ filter: { type: "user.*" }, destinationId: lifecycle.id, ratePerSecond: 20 });
    expect(res.status).toBe(202);
    expect(json).toMatchObject({ state: "running", destinationId: lifecycle.id, ratePerSecond: 20, filter: { type: "user.*" } });
    expect(sent).toEqual([{ kind: "replay", jobId: Number(json.id.slice(4)), step: 0 }]);

    const { deliveries, stepDelays } = await runSteps(sent);
    const final = await job(json.id);
    expect(final).toMatchObject({ state: "finished", progress: { matched: expected.length, enqueued: expected.length, skipped: 0, scanned: 1 } });
    expect(deliveries.map((m) => (m.kind === "delivery" ? m.uuid : "")).sort()).toEqual(expected.map((e) => e.uuid).sort());
    // At most 20 per second: each step waits (its deliveries / 20) seconds before the next.
    expect(stepDelays.length).toBeGreaterThan(1);
    for (const d of stepDelays) expect(d === undefined || (d >= 1 && d <= 5)).toBe(true);

    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    await deliver(deliveries.slice(0, 3));
    expect(captured).toHaveLength(3);
    for (const c of captured) expect(c.headers.get(REPLAY_OF_HEADER)).toMatch(/^msg_[0-9a-f]{32}$/);
    expect((await job(json.id)).progress.delivered).toBe(3);
  });

  it("a time range and a filter replay to every destination skip loop-guarded and pending events", async () => {
    const all = await createDestination({ name: "all" });
    const sorted = [...events].sort((a, b) => a.id - b.id);
    const since = new Date(sorted[100]!.receivedAt).toISOString();
    const until = new Date(sorted[300]!.receivedAt).toISOString();
    const inRange = events.filter((e) => e.published !== null && e.published >= Date.parse(since) && e.published < Date.parse(until) && e.forward !== 0 && !e.pending);
    const { json, sent } = await replay({ filter: { since, until } });
    const { deliveries } = await runSteps(sent);
    expect((await job(json.id)).progress).toMatchObject({ matched: inRange.length, enqueued: inRange.length });
    expect(new Set(deliveries.map((m) => (m.kind === "delivery" ? `${m.uuid} ${m.destinationId}` : "")))).toEqual(new Set(inRange.map((e) => `${e.uuid} ${all.id}`)));
  });

  it("cancel stops it at its next step; a duplicate or stale step message does nothing", async () => {
    await createDestination({ name: "all" });
    const { json, sent } = await replay({ filter: {}, ratePerSecond: 1 });
    const first = await consume(FORWARD_QUEUE_NAME, sent);
    const afterOne = await job(json.id);
    expect(afterOne.progress.enqueued).toBe(5);
    expect(first.forwarded.filter((m) => m.kind === "replay")).toEqual([{ kind: "replay", jobId: Number(json.id.slice(4)), step: 1 }]);

    // The same step message again (at-least-once delivery): nothing more happens.
    const again = await consume(FORWARD_QUEUE_NAME, sent);
    expect(again.forwarded).toEqual([]);
    expect((await job(json.id)).progress.enqueued).toBe(5);

    const cancelled = await adminCall("POST", `/replays/${json.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ state: "cancelled" });
    const next = await consume(FORWARD_QUEUE_NAME, first.forwarded.filter((m) => m.kind === "replay"));
    expect(next.forwarded).toEqual([]);
    expect((await job(json.id)).progress.enqueued).toBe(5);

    const twice = await adminCall("POST", `/replays/${json.id}/cancel`);
    expect(twice.status).toBe(409);
    expect((await adminCall("POST", "/replays/job_999999/cancel")).status).toBe(404);
  });

  it("the cron sends the step of a job whose message was lost", async () => {
    await createDestination({ name: "all" });
    const { json } = await replay({ filter: { type: "group.*" } });
    await env.DB.prepare("UPDATE replay_jobs SET next_step_at = next_step_at - 3600000").run();
    const queue = recordingQueue<ForwardMessage>();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), envWith({ FORWARD_QUEUE: queue }), createExecutionContext());
    // (The outbox sweep also enqueues the seeded batches still in the outbox.)
    const steps = queue.sent.filter((m) => m.kind === "replay");
    expect(steps).toEqual([{ kind: "replay", jobId: Number(json.id.slice(4)), step: 0 }]);
    const { deliveries } = await runSteps(steps);
    expect(deliveries.length).toBe(want("group.", ["*"]).length);
    expect((await job(json.id)).state).toBe("finished");
  });

  it("lists jobs newest first, page by page", async () => {
    await createDestination({});
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await replay({ filter: { type: "group.*" } })).json.id);
    const first = (await (await adminCall("GET", "/replays?limit=3")).json()) as { jobs: JobView[]; nextCursor: string };
    expect(first.jobs.map((j) => j.id)).toEqual(ids.slice().reverse().slice(0, 3));
    const second = (await (await adminCall("GET", `/replays?limit=3&cursor=${first.nextCursor}`)).json()) as { jobs: JobView[]; nextCursor: string | null };
    expect(second.jobs.map((j) => j.id)).toEqual(ids.slice().reverse().slice(3));
    expect(second.nextCursor).toBeNull();
  });
});

describe("bad input: a 4xx naming the field, nothing created", () => {
  it.each([
    [{}, 400, "eventUuid"],
    [{ eventUuid: "x", filter: {} }, 400, "eventUuid"],
    [{ filter: { type: "user..x" } }, 400, "filter.type"],
    [{ filter: { since: "yesterday" } }, 400, "filter.since"],
    [{ filter: { since: "2026-02-30T00:00:00Z" } }, 400, "filter.since"],
    [{ filter: { since: "2026-11-24T10:00:00Z", until: "2026-11-24T09:00:00Z" } }, 400, "filter.until"],
    [{ filter: { target: "00g1" } }, 400, "target"],
    [{ filter: {}, destinationId: "nope" }, 400, "destinationId"],
    [{ filter: {}, destinationId: "dst_00000000000000000000" }, 400, "destinationId"],
    [{ filter: {}, ratePerSecond: 0 }, 400, "ratePerSecond"],
    [{ filter: {}, ratePerSecond: 101 }, 400, "ratePerSecond"],
    [{ filter: {}, ratePerSecond: "fast" }, 400, "ratePerSecond"],
    [{ filter: {}, dryRun: "yes" }, 400, "dryRun"],
    [{ filter: {}, extra: 1 }, 400, "extra"],
  ])("%j", async (body, status, field) => {
    await createDestination({});
    const { res, json } = await replay(body);
    expect(res.status).toBe(status);
    const error = (json as unknown as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("invalid_body");
    expect(error.message).toContain(field);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM replay_jobs").first("n")).toBe(0);
  });

  it("malformed JSON, the wrong media type, an oversized body", async () => {
    const headers = { "content-type": "application/json" };
    expect((await request("/admin/api/replays", { as: "admin", body: "{", headers })).status).toBe(400);
    expect((await request("/admin/api/replays", { as: "admin", body: "x", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await request("/admin/api/replays", { as: "admin", body: JSON.stringify({ filter: {}, pad: "x".repeat(70_000) }) })).status).toBe(413);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM replay_jobs").first("n")).toBe(0);
  });

  it.each(["limit=0", "limit=101", "limit=x", "cursor=job_x", "cursor=7", "state=running", "limit=1&limit=2"])("GET /replays?%s: 400 invalid_query naming the parameter", async (query) => {
    const res = await adminCall("GET", `/replays?${query}`);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("invalid_query");
    expect(error.message).toContain(query.split("=")[0]!);
  });

  it("unknown and malformed job ids are 404", async () => {
    for (const id of ["job_1", "job_0", "job_x", "1", "x".repeat(300)]) {
      expect((await adminCall("GET", `/replays/${id}`)).status, id).toBe(404);
      expect((await adminCall("POST", `/replays/${id}/cancel`)).status, id).toBe(404);
    }
  });

  it("401 without the token or with a wrong one, before anything is judged or created", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }] as Array<Record<string, string>>) {
      expect((await request("/admin/api/replays", { body: { filter: {} }, headers })).status).toBe(401);
      expect((await request("/admin/api/replays", { headers })).status).toBe(401);
      expect((await request("/admin/api/replays/job_1/cancel", { method: "POST", headers })).status).toBe(401);
      expect((await request("/admin/api/replays/job_1", { headers })).status).toBe(401);
    }
    expect(await env.DB.prepare("SELECT count(*) AS n FROM replay_jobs").first("n")).toBe(0);
  });
});
