/**
 * The forward queue refusing sends (docs/forwarding.md "Operations", src/jobs/outbox-sweep.ts): Okta still gets
 * 204 — its events are stored and their batch is in the outbox — and the cron's outbox sweep hands every such batch
 * to the queue later, so each event reaches its destination once. Also when the queue is down for the sweep itself,
 * when marking the batch "not enqueued" fails too, and when the retry message of a failed first attempt cannot be
 * sent (the sweep finds the delivery overdue).
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../../src/env";
import { OUTBOX_MIN_AGE_MS, OVERDUE_GRACE_MS, UNFANNED_GRACE_MS } from "../../../src/jobs/outbox-sweep";
import { envWith, oktaDelivery, postOktaDelivery } from "../../helpers/forwarding";
import { prng } from "../../helpers/mutate";
import { destinationAt, endWorld, faultyDatabase, freshWorld, runCron, stubReceiver, type Answer, type SimulatedQueue, type VirtualClock } from "./harness";
import { count, forwardingOutcomes, halfStored, storedUuids } from "./ledger";

let clock: VirtualClock;
let queue: SimulatedQueue;
let healthy: Env;
let receiver: ReturnType<typeof stubReceiver>;
let answer: (uuid: string) => Answer;
let destinationId: string;

beforeEach(async () => {
  ({ clock, queue, env: healthy } = await freshWorld());
  answer = () => 204;
  receiver = stubReceiver(({ eventUuid }) => answer(eventUuid));
  destinationId = await destinationAt(receiver, "/all", healthy);
});
afterEach(endWorld);

/** `count` deliveries of 1–4 new events each, posted at once; answers every uuid. */
async function postConcurrently(deliveries: number, e: Env, random = prng(3)): Promise<string[]> {
  const made = Array.from({ length: deliveries }, () => oktaDelivery("user.session.start", Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({}))));
  const statuses = await Promise.all(made.map(async ({ envelope }) => (await postOktaDelivery(envelope, e)).status));
  expect(statuses.every((s) => s === 204)).toBe(true);
  return made.flatMap((m) => m.uuids);
}

async function expectForwardedOnce(uuids: string[]): Promise<void> {
  const accepted = receiver.acceptedCounts("/all");
  expect([...accepted.keys()].sort()).toEqual([...uuids].sort());
  expect([...accepted.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  expect([...(await forwardingOutcomes(destinationId)).delivered].sort()).toEqual([...uuids].sort());
  expect(await count("forward_outbox")).toBe(0);
}

async function sweepAndDrain(at: number): Promise<void> {
  clock.set(at);
  await runCron(healthy, at);
  await queue.drain(healthy, { until: at });
}

describe("the forward queue refuses sends at ingest", () => {
  it("down for a burst of concurrent deliveries: 204, all stored, and the first sweep a minute later forwards every event once", async () => {
    queue.failSend = () => true;
    const uuids = await postConcurrently(20, healthy);
    queue.failSend = () => false;
    expect(await storedUuids()).toEqual([...uuids].sort());
    expect(await halfStored()).toEqual([]);
    expect(await count("forward_outbox")).toBe(20);
    expect(queue.accepted).toEqual([]);

    // Younger than a minute: left to the request that stored it (which gave up); the next run takes them.
    await sweepAndDrain(clock.now() + OUTBOX_MIN_AGE_MS / 2);
    expect(receiver.received).toEqual([]);
    await sweepAndDrain(clock.now() + OUTBOX_MIN_AGE_MS);
    await expectForwardedOnce(uuids);
  });

  it("flapping (sends refused at random, some buffers lost): each batch is forwarded once, by its own message or by the sweep", async () => {
    const random = prng(11);
    // Six rounds of five concurrent deliveries, each round one buffer (one send and its retry): in the even rounds
    // the queue refuses everything, so that buffer is left to the sweep; in the odd ones it refuses every other
    // send, so a retry may save it.
    const uuids: string[] = [];
    for (let round = 0; round < 6; round++) {
      queue.failSend = round % 2 === 0 ? () => true : () => random() < 0.5;
      uuids.push(...(await postConcurrently(5, healthy, random)));
    }
    queue.failSend = () => false;
    const acceptedBatches = queue.accepted.flatMap((m) => (m.body.kind === "batches" ? m.body.batchIds : []));
    expect(acceptedBatches.length).toBeGreaterThan(0);
    expect(acceptedBatches.length).toBeLessThan(30);
    await queue.drain(healthy, { until: clock.now() });
    await sweepAndDrain(clock.now() + OUTBOX_MIN_AGE_MS + 1_000);
    // A later sweep finds nothing more to do, and re-sends nothing.
    await sweepAndDrain(clock.now() + UNFANNED_GRACE_MS + 60_000);
    await expectForwardedOnce(uuids);
  });

  it("the send fails and so does marking the batch not enqueued: the sweep takes it as a lost message, half an hour on", async () => {
    queue.failSend = () => true;
    const blip = envWith({
      FORWARD_QUEUE: queue.binding,
      DB: faultyDatabase(env.DB, (call) => (call.sql.some((sql) => sql.includes("SET enqueued_at = NULL")) ? { kind: "unreachable" } : undefined)),
    });
    const uuids = await postConcurrently(3, blip);
    queue.failSend = () => false;
    await sweepAndDrain(clock.now() + OUTBOX_MIN_AGE_MS + 1_000);
    expect(receiver.received).toEqual([]);
    await sweepAndDrain(clock.now() + UNFANNED_GRACE_MS);
    await expectForwardedOnce(uuids);
  });

  it("still down when the sweep runs: the cron fails loudly, and a later sweep forwards everything", async () => {
    queue.failSend = () => true;
    const uuids = await postConcurrently(5, healthy);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const at = clock.now() + OUTBOX_MIN_AGE_MS + 1_000;
    clock.set(at);
    await expect(runCron(healthy, at)).rejects.toThrow(/simulated outage/);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"msg":"outbox sweep failed"'));
    queue.failSend = () => false;
    expect(await count("forward_outbox")).toBe(5);
    // The failed sweep marked them handed over; they are taken again once that counts as a lost message.
    await sweepAndDrain(clock.now() + UNFANNED_GRACE_MS + 1_000);
    await expectForwardedOnce(uuids);
  });
});

describe("the forward queue refuses the retry of a failed first attempt", () => {
  it("the delivery waits in D1 and the sweep sends it once overdue; the batch is not fanned out twice", async () => {
    const uuids = await postConcurrently(2, healthy);
    const failOnce = new Set(uuids);
    answer = (uuid) => (failOnce.delete(uuid) ? 503 : 204);
    queue.failSend = (body) => body.kind === "delivery";
    await queue.drain(healthy, { until: clock.now() });
    // Every first attempt was made once and recorded; no retry message could be sent.
    expect(receiver.received).toHaveLength(uuids.length);
    expect((await forwardingOutcomes(destinationId)).open.size).toBe(uuids.length);
    // The consumer retries the batches messages whose follow-up send failed; their fan-out is already recorded.
    expect(queue.held.every((m) => m.body.kind === "batches")).toBe(true);
    expect(new Set(queue.held.flatMap((m) => (m.body.kind === "batches" ? m.body.batchIds : []))).size).toBe(2);
    queue.failSend = () => false;

    // Not yet overdue past the grace: nothing. Then the sweep enqueues them and they go through.
    await sweepAndDrain(clock.now() + OVERDUE_GRACE_MS / 2);
    expect(receiver.received).toHaveLength(uuids.length);
    await sweepAndDrain(clock.now() + OVERDUE_GRACE_MS + 60_000);
    await expectForwardedOnce(uuids);
    expect(receiver.received).toHaveLength(2 * uuids.length);
  });
});
