/**
 * The forward consumer failing for some messages of a batch (src/queue/consumer.ts: every message is decided on its
 * own): D1 failing for one fan-out before it starts, for another after its sends and before its outcomes are
 * recorded, a receiver's connection failing for one event, D1 failing for one retry's claim and for another's record
 * after the send. The other messages are acknowledged and never sent again; the failed ones are retried and go
 * through; nothing is lost, and what is sent twice (a send whose record failed) carries the same webhook-id. Also
 * the invocation dying before its acks reach the queue: every message comes back, and none is sent a second time;
 * and the queue handing over two copies of a message at once: its work is done once.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import type { ForwardMessage } from "../../../src/queue/messages";
import { envWith, oktaDelivery, postOktaDelivery } from "../../helpers/forwarding";
import { destinationAt, endWorld, faultyDatabase, freshWorld, stubReceiver, type Answer, type DatabaseCall, type Fault, type SimulatedQueue, type VirtualClock } from "./harness";
import { count, forwardingOutcomes, halfStored } from "./ledger";

let clock: VirtualClock;
let queue: SimulatedQueue;
let healthy: Env;
let receiver: ReturnType<typeof stubReceiver>;
let answer: (request: { destinationPath: string; eventUuid: string }) => Answer;
let destinations: string[];

beforeEach(async () => {
  ({ clock, queue, env: healthy } = await freshWorld());
  answer = () => 204;
  receiver = stubReceiver((request) => answer(request));
  destinations = [await destinationAt(receiver, "/a", healthy), await destinationAt(receiver, "/b", healthy)];
});
afterEach(endWorld);

/**
 * `n` Okta deliveries of 3 events each, stored one after the other; their batches messages (one batch each: every
 * request's buffer is sent before the next request begins) wait in the queue.
 */
async function storeBatches(n: number): Promise<Array<{ batchId: number; uuids: string[] }>> {
  const stored: Array<{ batchId: number; uuids: string[] }> = [];
  for (let i = 0; i < n; i++) {
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}, {}]);
    expect((await postOktaDelivery(envelope, healthy)).status).toBe(204);
    const message = queue.held.at(-1)!.body;
    if (message.kind !== "batches" || message.batchIds.length !== 1) throw new Error("expected a batches message of one batch");
    stored.push({ batchId: message.batchIds[0]!, uuids });
  }
  return stored;
}

const isDeliveryOf = (body: ForwardMessage, uuid: string) => body.kind === "delivery" && body.uuid === uuid;

/** Requests per (path, event): how many, how many accepted, and their webhook-ids. */
function sends(path: string, uuid: string) {
  const requests = receiver.received.filter((r) => r.destinationPath === path && r.eventUuid === uuid);
  return { total: requests.length, accepted: requests.filter((r) => r.status === 204).length, ids: new Set(requests.map((r) => r.webhookId)) };
}

async function expectEverythingDelivered(uuids: string[]): Promise<void> {
  for (const id of destinations) {
    const outcomes = await forwardingOutcomes(id);
    expect([...outcomes.delivered].sort()).toEqual([...uuids].sort());
    expect(outcomes.open.size + outcomes.dead.size).toBe(0);
  }
  expect(await count("forward_outbox")).toBe(0);
  expect(await halfStored()).toEqual([]);
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
}

describe("fan-out messages failing inside one batch", () => {
  it("only the failed messages are retried; the others are never sent again; the retries deliver everything", async () => {
    const batches = await storeBatches(6);
    const [b1, , b3, , b5] = batches;
    const unreachableForB3 = (call: DatabaseCall) => call.batch && call.sql[0]!.includes("UPDATE forward_outbox SET lease_until") && call.args[0]![0] === b3!.batchId;
    const recordOfB5 = (call: DatabaseCall) => call.batch && call.sql.at(-1)!.includes("DELETE FROM forward_outbox") && call.args.at(-1)![0] === b5!.batchId;
    const flaky = envWith({
      FORWARD_QUEUE: queue.binding,
      DB: faultyDatabase(env.DB, (call): Fault | undefined => {
        if (unreachableForB3(call)) return { kind: "unreachable" };
        if (recordOfB5(call)) return { kind: "fails-inside", at: 1 };
        return undefined;
      }),
    });
    const brokenConnection = b1!.uuids[0]!;
    answer = ({ destinationPath, eventUuid }) => (destinationPath === "/a" && eventUuid === brokenConnection && sends("/a", eventUuid).total === 0 ? "network-error" : 204);

    const report = await queue.invoke(flaky);
    expect(report.messages).toBe(6);
    expect(report.threw).toBeUndefined();
    expect(report.retried.map((r) => r.body)).toEqual([
      { kind: "batches", batchIds: [b3!.batchId] },
      { kind: "batches", batchIds: [b5!.batchId] },
    ]);
    expect(report.acked.filter((m) => m.kind === "batches")).toHaveLength(4);
    // The broken connection became a retry message of its own, delayed per the schedule.
    expect(queue.held.filter((m) => isDeliveryOf(m.body, brokenConnection))).toHaveLength(1);
    expect(sends("/a", brokenConnection)).toMatchObject({ total: 1, accepted: 0 });
    for (const uuid of b3!.uuids) expect(sends("/a", uuid).total).toBe(0);
    // b5 was sent, but its outcomes were not recorded: it stays in the outbox, its lease given back.
    const outbox = await env.DB.prepare("SELECT batch_id, lease_until FROM forward_outbox ORDER BY batch_id").all<{ batch_id: number; lease_until: number | null }>();
    expect(outbox.results).toEqual([
      { batch_id: b3!.batchId, lease_until: null },
      { batch_id: b5!.batchId, lease_until: null },
    ]);

    // D1 is back: the queue redelivers the two batch messages and the retry; nothing else.
    const before = receiver.received.length;
    await queue.drain(healthy, { until: clock.now() + 3_600_000 });
    const resent = receiver.received.slice(before);
    const expectedResent = new Set([...b3!.uuids, ...b5!.uuids, brokenConnection]);
    expect(resent.every((r) => expectedResent.has(r.eventUuid))).toBe(true);

    const all = batches.flatMap((b) => b.uuids);
    for (const path of ["/a", "/b"]) {
      for (const uuid of all) {
        const s = sends(path, uuid);
        expect(s.accepted, `${path} ${uuid}`).toBe(b5!.uuids.includes(uuid) ? 2 : 1);
        // Every send of an event to a destination carries one webhook-id, so the receiver can drop the repeat.
        expect(s.ids.size).toBe(1);
      }
    }
    expect(sends("/a", brokenConnection)).toMatchObject({ total: 2, accepted: 1 });
    expect(queue.held).toEqual([]);
    await expectEverythingDelivered(all);
  });
});

describe("retry messages failing inside one batch", () => {
  it("a claim D1 refused and a record D1 lost are retried alone; the other retries are acked and not repeated", async () => {
    const batches = await storeBatches(2);
    const all = batches.flatMap((b) => b.uuids);
    // Every first attempt to /a fails: six retry messages.
    answer = ({ destinationPath }) => (destinationPath === "/a" ? 503 : 204);
    await queue.invoke(healthy);
    expect(queue.held.filter((m) => m.body.kind === "delivery")).toHaveLength(all.length);
    answer = () => 204;

    const [x, y] = all;
    const flaky = envWith({
      FORWARD_QUEUE: queue.binding,
      DB: faultyDatabase(env.DB, (call): Fault | undefined => {
        if (call.batch && call.sql.some((sql) => sql.includes("SET lease_until = ?3 + ?4")) && call.args.some((a) => a[0] === x)) return { kind: "unreachable" };
        if (call.batch && call.sql[0]!.includes("INSERT INTO delivery_attempts") && call.args[0]![0] === y) return { kind: "fails-inside", at: 1 };
        return undefined;
      }),
    });
    // Every retry is due within 6 s (5 s ± 20 %); one invocation takes them all.
    clock.advance(6_000);
    const report = await queue.invoke(flaky);
    expect(report.messages).toBe(all.length);
    expect(report.retried.map((r) => r.body).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [x, y].map((uuid) => ({ kind: "delivery", uuid, destinationId: destinations[0] })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    expect(report.retried.every((r) => (r.delaySeconds ?? 0) > 0)).toBe(true);
    expect(sends("/a", x!).accepted).toBe(0);
    expect(sends("/a", y!).accepted).toBe(1);

    await queue.drain(healthy, { until: clock.now() + 3_600_000 });
    for (const uuid of all) {
      const s = sends("/a", uuid);
      expect(s.accepted, uuid).toBe(uuid === y ? 2 : 1);
      expect(s.ids.size).toBe(1);
      expect(sends("/b", uuid).accepted).toBe(1);
    }
    await expectEverythingDelivered(all);
  });
});

describe("the invocation dies before its acks reach the queue", () => {
  it("every message is delivered again, and none is sent a second time", async () => {
    const batches = await storeBatches(3);
    const all = batches.flatMap((b) => b.uuids);
    answer = ({ destinationPath, eventUuid }) => (destinationPath === "/a" && eventUuid === all[0] && sends("/a", eventUuid).total === 0 ? 503 : 204);
    const first = await queue.invoke(healthy, { crash: true });
    expect(first.retried).toHaveLength(3);
    const sentOnce = receiver.received.length;
    expect(sentOnce).toBe(all.length * 2);

    // The three batch messages come back: their batches left the outbox when their outcomes were recorded.
    const again = await queue.invoke(healthy);
    expect(again.acked.filter((m) => m.kind === "batches")).toHaveLength(3);
    expect(receiver.received.length).toBe(sentOnce);

    // The retry of the one failed attempt, delivered and then "lost" too, is not repeated either.
    clock.advance(6_000);
    const retry = await queue.invoke(healthy, { crash: true });
    expect(retry.retried.map((r) => r.body)).toEqual([{ kind: "delivery", uuid: all[0], destinationId: destinations[0] }]);
    const afterRetry = receiver.received.length;
    await queue.drain(healthy, { until: clock.now() + 3_600_000 });
    expect(receiver.received.length).toBe(afterRetry);
    for (const uuid of all) {
      expect(sends("/a", uuid).accepted).toBe(1);
      expect(sends("/b", uuid).accepted).toBe(1);
    }
    await expectEverythingDelivered(all);
  });
});

describe("the queue delivering a message twice at once (at-least-once)", () => {
  it("two copies of a batch message fan it out once; two copies of a retry send it once", async () => {
    const [batch] = await storeBatches(1);
    await queue.binding.send({ kind: "batches", batchIds: [batch!.batchId] });
    answer = ({ destinationPath, eventUuid }) => (destinationPath === "/a" && eventUuid === batch!.uuids[0] && sends("/a", eventUuid).total === 0 ? 503 : 204);
    const fanOut = await queue.invoke(healthy);
    expect(fanOut.messages).toBe(2);
    expect(fanOut.acked).toHaveLength(2);
    for (const uuid of batch!.uuids) expect(sends("/b", uuid).total).toBe(1);

    const retry = queue.held.find((m) => m.body.kind === "delivery")!;
    await queue.binding.send(retry.body);
    clock.advance(6_000);
    const retried = await queue.invoke(healthy);
    expect(retried.messages).toBe(2);
    expect(sends("/a", batch!.uuids[0]!)).toMatchObject({ total: 2, accepted: 1 });
    await queue.drain(healthy, { until: clock.now() + 3_600_000 });
    expect(sends("/a", batch!.uuids[0]!)).toMatchObject({ total: 2, accepted: 1 });
    await expectEverythingDelivered(batch!.uuids);
  });
});
