/**
 * /admin/api/dead-letters against real local D1: listing by destination and time, newest first, page by page
 * across destinations (checked against a brute-force order); inspecting one with its attempts; redriving one (back
 * to pending with a fresh schedule, enqueued now, delivered after the fix) and all of a destination (a job through
 * the queue); event-level letters (the event never fanned out) redriven as its fan-out, or kept when it cannot be
 * forwarded; delete; bad input and the security group.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deliveryMessageId } from "../../src/forwarding/signing";
import type { ForwardMessage } from "../../src/queue/messages";
import { recordDeadLetter } from "../../src/storage/deliveries";
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
} from "../helpers/forwarding";
import { request } from "../helpers/gateway";

beforeEach(async () => {
  await clearForwarding();
  await env.DB.prepare("DELETE FROM replay_jobs").run();
});
afterEach(() => (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.());

interface LetterView {
  destinationId: string;
  destinationName: string | null;
  eventUuid: string;
  eventType: string | null;
  reason: string;
  attempts: number;
  recordedAt: string;
}

async function deadLetterCount(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM dead_letters").first<{ n: number }>())!.n;
}

/** Store `n` events in one delivery and fan them out to a receiver that answers 400 for `deadUrlPart` hosts. */
async function deadDeliveries(n: number, deadUrlPart = "broken") {
  const { envelope, uuids } = oktaDelivery("user.session.start", Array.from({ length: n }, () => ({})));
  expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
  const stub = stubDestinations((r) => new Response(null, { status: r.url.includes(deadUrlPart) ? 400 : 204 }));
  await fanOut(uuids[0]!);
  stub.spy.mockRestore();
  return uuids;
}

async function list(query = ""): Promise<{ deadLetters: LetterView[]; nextCursor: string | null }> {
  const res = await adminCall("GET", `/dead-letters${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { deadLetters: LetterView[]; nextCursor: string | null };
}

describe("list and inspect", () => {
  it("lists a destination's dead letters newest first, with the event type and the destination's name", async () => {
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    await createDestination({ name: "fine" });
    const uuids = await deadDeliveries(3);
    const { deadLetters, nextCursor } = await list(`?destinationId=${broken.id}`);
    expect(nextCursor).toBeNull();
    expect(deadLetters.map((l) => l.eventUuid).sort()).toEqual([...uuids].sort());
    expect(deadLetters[0]).toMatchObject({
      destinationId: broken.id,
      destinationName: "broken",
      eventType: "user.session.start",
      attempts: 1,
      reason: "permanent failure: HTTP 400",
    });
    expect(Date.parse(deadLetters[0]!.recordedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("pages across every destination in one order, with time bounds, matching a brute-force sort", async () => {
    const a = await createDestination({ name: "a" });
    const b = await createDestination({ name: "b" });
    const { envelope, uuids } = oktaDelivery("user.session.start", Array.from({ length: 12 }, () => ({})));
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    const base = Date.UTC(2026, 10, 1);
    const letters: Array<{ uuid: string; destination: string; at: number }> = [];
    for (const [i, uuid] of uuids.entries()) {
      // Several letters share a time, so the order's tie-breaks (destination, then uuid) are exercised.
      const at = base + Math.floor(i / 3) * 1000;
      for (const destination of i % 2 ? [a.id, b.id] : i % 3 ? [a.id, ""] : [b.id]) {
        await recordDeadLetter(env.DB, { eventUuid: uuid, destinationId: destination, reason: "test", attempts: 1 }, at);
        letters.push({ uuid, destination: destination === "" ? "fan-out" : destination, at });
      }
    }
    const newestFirst = (x: (typeof letters)[number], y: (typeof letters)[number]) => {
      const xd = x.destination === "fan-out" ? "" : x.destination;
      const yd = y.destination === "fan-out" ? "" : y.destination;
      return y.at - x.at || (xd < yd ? 1 : xd > yd ? -1 : 0) || (x.uuid < y.uuid ? 1 : -1);
    };
    for (const query of [
      { want: [...letters].sort(newestFirst), q: "" },
      { want: letters.filter((l) => l.destination === a.id).sort(newestFirst), q: `destinationId=${a.id}&` },
      { want: letters.filter((l) => l.destination === "fan-out").sort(newestFirst), q: "destinationId=fan-out&" },
      {
        want: letters.filter((l) => l.at >= base + 1000 && l.at < base + 3000).sort(newestFirst),
        q: `since=${new Date(base + 1000).toISOString()}&until=${new Date(base + 3000).toISOString()}&`,
      },
    ]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 30; i++) {
        const page = await list(`?${query.q}limit=4${cursor ? `&cursor=${cursor}` : ""}`);
        seen.push(...page.deadLetters.map((l) => `${l.destinationId} ${l.eventUuid} ${Date.parse(l.recordedAt)}`));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(query.want.map((l) => `${l.destination} ${l.uuid} ${l.at}`));
    }
  });

  it("inspects one with its delivery's attempts", async () => {
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    const [uuid] = await deadDeliveries(1);
    const res = await adminCall("GET", `/dead-letters/${broken.id}/${uuid}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as LetterView & { event: Record<string, unknown>; deliveries: Array<Record<string, unknown>> };
    expect(body).toMatchObject({ destinationId: broken.id, eventUuid: uuid, eventType: "user.session.start", reason: "permanent failure: HTTP 400" });
    expect(body.event).toEqual({ uuid, eventType: "user.session.start", forwardState: "fanned_out" });
    expect(body.deliveries).toHaveLength(1);
    expect(body.deliveries[0]).toMatchObject({ destinationId: broken.id, state: "dead", attempts: 1 });
    expect(body.deliveries[0]!.attemptLog).toEqual([expect.objectContaining({ attempt: 1, status: 400, outcome: "dead", jobId: null })]);
  });
});

describe("redrive", () => {
  it("one: back to pending with a fresh schedule, enqueued now, its webhook-id unchanged; delivered once the receiver is fixed", async () => {
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    const [uuid] = await deadDeliveries(1);
    const queue = recordingQueue<ForwardMessage>();
    const res = await adminCall("POST", `/dead-letters/${broken.id}/${uuid}/redrive`, undefined, envWith({ FORWARD_QUEUE: queue }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redriven: [{ destinationId: broken.id, eventUuid: uuid }] });
    expect(queue.sent).toEqual([{ kind: "delivery", uuid, destinationId: broken.id }]);
    expect(await deliveryRow(uuid!, broken.id)).toMatchObject({ state: "pending", attempts: 0 });
    expect(await deadLetterCount()).toBe(0);

    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    await attempt(uuid!, broken.id);
    expect((await deliveryRow(uuid!, broken.id))?.state).toBe("delivered");
    expect(captured[0]!.headers.get("webhook-id")).toBe(await deliveryMessageId(uuid!, broken.id));
    expect(captured[0]!.headers.get("okta-hooks-edge-replay-of")).toBeNull();
    // A second redrive finds nothing: 404.
    expect((await adminCall("POST", `/dead-letters/${broken.id}/${uuid}/redrive`)).status).toBe(404);
  });

  it("all of a destination: a job through the queue; other destinations' letters stay", async () => {
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    const other = await createDestination({ name: "other-broken", url: "https://other-broken.example.com/hook" });
    const uuids = await deadDeliveries(5);
    expect(await deadLetterCount()).toBe(10);
    const queue = recordingQueue<ForwardMessage>();
    const res = await adminCall("POST", "/dead-letters/redrive", { destinationId: broken.id, ratePerSecond: 50 }, envWith({ FORWARD_QUEUE: queue }));
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; kind: string; state: string; destinationId: string };
    expect(job).toMatchObject({ kind: "redrive", state: "running", destinationId: broken.id });
    expect(queue.sent).toEqual([{ kind: "replay", jobId: Number(job.id.slice(4)), step: 0 }]);

    const { forwarded } = await consume(FORWARD_QUEUE_NAME, queue.sent);
    expect(forwarded.filter((m) => m.kind === "delivery").map((m) => (m.kind === "delivery" ? m.uuid : "")).sort()).toEqual([...uuids].sort());
    expect(forwarded.filter((m) => m.kind === "replay")).toEqual([]);
    const view = (await (await adminCall("GET", `/replays/${job.id}`)).json()) as { state: string; progress: Record<string, number> };
    expect(view).toMatchObject({ state: "finished", progress: { matched: 5, enqueued: 5, skipped: 0 } });
    expect((await list(`?destinationId=${broken.id}`)).deadLetters).toEqual([]);
    expect((await list(`?destinationId=${other.id}`)).deadLetters).toHaveLength(5);

    stubDestinations(() => new Response(null, { status: 204 }));
    for (const uuid of uuids) await attempt(uuid, broken.id);
    expect(((await (await adminCall("GET", `/replays/${job.id}`)).json()) as { progress: Record<string, number> }).progress.delivered).toBe(5);
  });

  it("an event-level letter (the event never fanned out) becomes the event's first deliveries to every matching destination", async () => {
    const all = await createDestination({ name: "all" });
    const sessions = await createDestination({ name: "sessions", eventTypes: ["user.session.*"] });
    await createDestination({ name: "lifecycle", eventTypes: ["user.lifecycle.*"] });
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    await env.DB.prepare("DELETE FROM forward_outbox").run();
    await recordDeadLetter(env.DB, { eventUuid: uuids[0]!, destinationId: "", reason: "fan-out failed; queue retries exhausted", attempts: 100 }, Date.now());
    expect((await list("?destinationId=fan-out")).deadLetters).toEqual([expect.objectContaining({ destinationId: "fan-out", eventUuid: uuids[0], destinationName: null })]);

    const queue = recordingQueue<ForwardMessage>();
    const res = await adminCall("POST", `/dead-letters/fan-out/${uuids[0]}/redrive`, undefined, envWith({ FORWARD_QUEUE: queue }));
    expect(res.status).toBe(200);
    const { redriven } = (await res.json()) as { redriven: Array<{ destinationId: string }> };
    expect(redriven.map((r) => r.destinationId).sort()).toEqual([all.id, sessions.id].sort());
    expect(queue.sent).toHaveLength(2);
    expect(await deadLetterCount()).toBe(0);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    for (const m of queue.sent) if (m.kind === "delivery") await attempt(m.uuid, m.destinationId);
    expect(captured.map((c) => c.headers.get("webhook-id")).sort()).toEqual([await deliveryMessageId(uuids[0]!, all.id), await deliveryMessageId(uuids[0]!, sessions.id)].sort());
  });

  it("an event-level letter whose event still waits for fan-out is removed, and fan-out alone sends it", async () => {
    await createDestination({});
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    await recordDeadLetter(env.DB, { eventUuid: uuids[0]!, destinationId: "", reason: "x", attempts: 1 }, Date.now());
    const queue = recordingQueue<ForwardMessage>();
    const res = await adminCall("POST", `/dead-letters/fan-out/${uuids[0]}/redrive`, undefined, envWith({ FORWARD_QUEUE: queue }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redriven: [] });
    expect(queue.sent).toEqual([]);
    expect(await deadLetterCount()).toBe(0);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM deliveries").first("n")).toBe(0);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await fanOut(uuids[0]!);
    expect(captured).toHaveLength(1);
  });

  it("an event-level letter whose event cannot be forwarded stays, with the reason (409)", async () => {
    await createDestination({});
    await recordDeadLetter(env.DB, { eventUuid: "gone-event", destinationId: "", reason: "x", attempts: 1 }, Date.now());
    const res = await adminCall("POST", "/dead-letters/fan-out/gone-event/redrive");
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("no longer stored");
    expect(await deadLetterCount()).toBe(1);
  });
});

describe("delete", () => {
  it("removes one letter (the delivery stays dead); then 404", async () => {
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    const [uuid] = await deadDeliveries(1);
    expect((await adminCall("DELETE", `/dead-letters/${broken.id}/${uuid}`)).status).toBe(204);
    expect(await deadLetterCount()).toBe(0);
    expect((await deliveryRow(uuid!, broken.id))?.state).toBe("dead");
    for (const [method, path] of [
      ["DELETE", `/dead-letters/${broken.id}/${uuid}`],
      ["GET", `/dead-letters/${broken.id}/${uuid}`],
      ["POST", `/dead-letters/${broken.id}/${uuid}/redrive`],
    ] as const) {
      expect((await adminCall(method, path)).status, `${method} ${path}`).toBe(404);
    }
  });
});

describe("bad input and security", () => {
  it.each([
    ["destinationId=nope", "destinationId"],
    ["since=yesterday", "since"],
    ["since=2026-11-24T10:00:00Z&until=2026-11-24T09:00:00Z", "until"],
    ["limit=0", "limit"],
    ["limit=500", "limit"],
    ["cursor=!!!", "cursor"],
    ["cursor=bm90IGpzb24", "cursor"],
    ["cursor=WzEsMl0", "cursor"],
    ["state=dead", "state"],
  ])("GET ?%s: 400 naming %s", async (query, field) => {
    const res = await adminCall("GET", `/dead-letters?${query}`);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("invalid_query");
    expect(error.message).toContain(field);
  });

  it.each([
    [{}, "destinationId"],
    [{ destinationId: "nope" }, "destinationId"],
    [{ destinationId: "dst_00000000000000000000" }, "destinationId"],
    [{ destinationId: "fan-out", ratePerSecond: 0 }, "ratePerSecond"],
    [{ destinationId: "fan-out", extra: true }, "extra"],
  ])("POST /redrive %j: 400 naming the field, no job", async (body, field) => {
    const res = await adminCall("POST", "/dead-letters/redrive", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM replay_jobs").first("n")).toBe(0);
  });

  it("malformed and oversized bodies, unknown letters", async () => {
    expect((await request("/admin/api/dead-letters/redrive", { as: "admin", body: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await request("/admin/api/dead-letters/redrive", { as: "admin", body: { destinationId: "fan-out", pad: "x".repeat(70_000) } })).status).toBe(413);
    for (const path of ["/dead-letters/nope/x", "/dead-letters/fan-out/x", `/dead-letters/fan-out/${"x".repeat(300)}`]) {
      expect((await adminCall("GET", path)).status, path).toBe(404);
      expect((await adminCall("DELETE", path)).status, path).toBe(404);
      expect((await adminCall("POST", `${path}/redrive`)).status, path).toBe(404);
    }
  });

  it("401 without the token or with a wrong one; nothing changes", async () => {
    const broken = await createDestination({ name: "broken", url: "https://broken.example.com/hook" });
    const [uuid] = await deadDeliveries(1);
    for (const headers of [{}, { authorization: "Bearer nope" }] as Array<Record<string, string>>) {
      expect((await request("/admin/api/dead-letters", { headers })).status).toBe(401);
      const inspect = await request(`/admin/api/dead-letters/${broken.id}/${uuid}`, { headers });
      expect(inspect.status).toBe(401);
      expect(await inspect.text()).not.toContain(uuid!);
      expect((await request(`/admin/api/dead-letters/${broken.id}/${uuid}`, { method: "DELETE", headers })).status).toBe(401);
      expect((await request(`/admin/api/dead-letters/${broken.id}/${uuid}/redrive`, { method: "POST", headers })).status).toBe(401);
      expect((await request("/admin/api/dead-letters/redrive", { body: { destinationId: broken.id }, headers })).status).toBe(401);
    }
    expect(await deadLetterCount()).toBe(1);
    expect((await deliveryRow(uuid!, broken.id))?.state).toBe("dead");
  });
});
