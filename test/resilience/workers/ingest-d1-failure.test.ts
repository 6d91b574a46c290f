/**
 * D1 failing in the middle of an ingest (docs/forwarding.md, src/usecases/ingest.ts): Okta gets a 5xx, so it retries
 * (https://developer.okta.com/docs/concepts/event-hooks/: one retry on timeout or 5xx); nothing is half-stored — no
 * event without its batch row, no batch without its outbox row when something was to forward — whether D1 is
 * unreachable, fails after some statements of the ingest transaction ran, or commits and loses its reply; and the
 * retry stores what is missing, once, and every event reaches the destination.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import { UNFANNED_GRACE_MS } from "../../../src/jobs/outbox-sweep";
import { envWith, oktaDelivery, postOktaDelivery } from "../../helpers/forwarding";
import { prng } from "../../helpers/mutate";
import { destinationAt, endWorld, faultyDatabase, freshWorld, runCron, stubReceiver, type DatabaseCall, type Fault, type SimulatedQueue, type VirtualClock } from "./harness";
import { count, forwardingOutcomes, halfStored, storedUuids } from "./ledger";

const isIngest = (call: DatabaseCall) => call.batch && call.sql[0]!.includes("INSERT INTO events");

let clock: VirtualClock;
let queue: SimulatedQueue;
let healthy: Env;
let receiver: ReturnType<typeof stubReceiver>;
let destinationId: string;

beforeEach(async () => {
  ({ clock, queue, env: healthy } = await freshWorld());
  receiver = stubReceiver(() => 204);
  destinationId = await destinationAt(receiver, "/all", healthy);
});
afterEach(endWorld);

/** D1 failing as `fault` for the ingest's transaction (every other D1 call goes through). */
function envFailingIngest(fault: Fault): Env {
  return envWith({ FORWARD_QUEUE: queue.binding, DB: faultyDatabase(env.DB, (call) => (isIngest(call) ? fault : undefined)) });
}

async function expectStorageUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("storage_unavailable");
}

/** Run the queue (and, at `sweepAt`, the cron) until every held message is done. */
async function forwardEverything(sweepAt?: number): Promise<void> {
  await queue.drain(healthy, { until: clock.now() });
  if (sweepAt !== undefined) {
    clock.set(sweepAt);
    await runCron(healthy, sweepAt);
    await queue.drain(healthy, { until: clock.now() });
  }
}

async function expectForwardedOnce(uuids: string[]): Promise<void> {
  const accepted = receiver.acceptedCounts("/all");
  expect([...accepted.keys()].sort()).toEqual([...uuids].sort());
  expect([...accepted.values()].every((n) => n === 1)).toBe(true);
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  const outcomes = await forwardingOutcomes(destinationId);
  expect([...outcomes.delivered].sort()).toEqual([...uuids].sort());
}

describe("D1 fails inside the ingest transaction", () => {
  // Statements of the ingest: events, stats rollup, batch row, payload, outbox row, destinations version
  // (src/storage/events.ts).
  const positions = [
    { at: 0, where: "before the events insert" },
    { at: 1, where: "after the events insert, before the rollup" },
    { at: 2, where: "after the rollup, before the batch row" },
    { at: 3, where: "after the batch row, before its payload" },
    { at: 4, where: "after the payload, before the outbox row" },
    { at: 5, where: "after the outbox row" },
    { at: 6, where: "after every statement, before the commit" },
  ];
  for (const { at, where } of positions) {
    it(`${where}: 503, nothing stored, and Okta's retry stores and forwards every event once`, async () => {
      const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}, {}]);
      await expectStorageUnavailable(await postOktaDelivery(envelope, envFailingIngest({ kind: "fails-inside", at })));
      expect(await count("events")).toBe(0);
      expect(await count("event_batches")).toBe(0);
      expect(await count("event_payloads")).toBe(0);
      expect(await count("forward_outbox")).toBe(0);
      expect(queue.accepted).toEqual([]);

      expect((await postOktaDelivery(envelope, healthy)).status).toBe(204);
      expect(await storedUuids()).toEqual([...uuids].sort());
      expect(await count("event_batches")).toBe(1);
      expect(await halfStored()).toEqual([]);
      expect(queue.accepted.map((m) => m.body.kind)).toEqual(["batches"]);
      await forwardEverything();
      await expectForwardedOnce(uuids);
      expect(await count("forward_outbox")).toBe(0);
    });
  }

  it("between the two batches of a delivery too large for one: no event of it is stored", async () => {
    // Incompressible event fields, 2.1 MB in all: more than one batch holds (1.5 MB of text, src/storage/events.ts),
    // so the delivery is two batches in the one transaction; D1 fails after the first is written.
    const noise = () => Array.from({ length: 11 }, () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(48_000))))).join("");
    const { envelope, uuids } = oktaDelivery("user.session.start", Array.from({ length: 3 }, () => ({ debugContext: { debugData: { noise: noise() } } })));
    const seen: number[] = [];
    const failing = envWith({
      FORWARD_QUEUE: queue.binding,
      MAX_BODY_BYTES: String(4 * 1024 * 1024),
      DB: faultyDatabase(env.DB, (call) => {
        if (!isIngest(call)) return undefined;
        seen.push(call.sql.filter((sql) => sql.includes("INSERT INTO event_batches")).length);
        // The first batch's five statements run: events, rollup, batch row, payload, outbox row.
        return { kind: "fails-inside", at: 5 };
      }),
    });
    await expectStorageUnavailable(await postOktaDelivery(envelope, failing));
    expect(seen).toEqual([2]);
    expect(await count("events")).toBe(0);
    expect(await count("event_batches")).toBe(0);
    expect(await count("event_payloads")).toBe(0);

    expect((await postOktaDelivery(envelope, envWith({ ...healthy, MAX_BODY_BYTES: String(4 * 1024 * 1024) }))).status).toBe(204);
    expect(await count("event_batches")).toBe(2);
    expect(await storedUuids()).toEqual([...uuids].sort());
    expect(await halfStored()).toEqual([]);
    await forwardEverything();
    await expectForwardedOnce(uuids);
  });
});

describe("D1 unreachable, or its reply lost", () => {
  it("unreachable: 503 and nothing stored; the retry stores and forwards", async () => {
    const { envelope, uuids } = oktaDelivery("user.lifecycle.create", [{}, {}]);
    await expectStorageUnavailable(await postOktaDelivery(envelope, envFailingIngest({ kind: "unreachable" })));
    expect(await count("events")).toBe(0);
    expect((await postOktaDelivery(envelope, healthy)).status).toBe(204);
    await forwardEverything();
    await expectForwardedOnce(uuids);
  });

  it("D1 committed but the reply was lost: 503, the delivery is whole in D1, the retry is a duplicate, the sweep forwards it", async () => {
    const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}, {}, {}]);
    await expectStorageUnavailable(await postOktaDelivery(envelope, envFailingIngest({ kind: "reply-lost" })));
    // Stored whole, with its outbox row; no message went out (the route never learnt it was stored).
    expect(await storedUuids()).toEqual([...uuids].sort());
    expect(await count("forward_outbox")).toBe(1);
    expect(await halfStored()).toEqual([]);
    expect(queue.accepted).toEqual([]);

    // Okta's retry: every event a duplicate, no second batch.
    expect((await postOktaDelivery(envelope, healthy)).status).toBe(204);
    expect(await count("events")).toBe(uuids.length);
    expect(await count("event_batches")).toBe(1);

    // The outbox row says "handed to the queue" (written with the batch), so the sweep takes it as a lost message.
    await forwardEverything(clock.now() + UNFANNED_GRACE_MS + 60_000);
    await expectForwardedOnce(uuids);
    expect(await count("forward_outbox")).toBe(0);
  });
});

describe("D1 failing at random under concurrent deliveries", () => {
  it("every delivery ends 204 after retries, every event is stored once and forwarded once, nothing half-stored", async () => {
    const random = prng(9_2026);
    const faults: Fault[] = [{ kind: "unreachable" }, { kind: "reply-lost" }, ...[0, 1, 2, 3, 4, 5, 6].map((at) => ({ kind: "fails-inside" as const, at }))];
    const flaky = envWith({
      FORWARD_QUEUE: queue.binding,
      DB: faultyDatabase(env.DB, (call) => (isIngest(call) && random() < 0.4 ? faults[Math.floor(random() * faults.length)] : undefined)),
    });
    // 40 deliveries of 1–5 events; a third of them repeat events of earlier deliveries (as Okta does across envelopes).
    const deliveries: Array<{ envelope: ReturnType<typeof oktaDelivery>["envelope"]; uuids: string[] }> = [];
    for (let i = 0; i < 40; i++) {
      const fresh = oktaDelivery(i % 2 ? "user.session.start" : "user.lifecycle.create", Array.from({ length: 1 + Math.floor(random() * 5) }, () => ({})));
      if (i > 0 && i % 3 === 0) {
        const earlier = deliveries[Math.floor(random() * deliveries.length)]!;
        const repeated = earlier.envelope.data.events.slice(0, 2);
        fresh.envelope.data.events.push(...repeated);
        fresh.uuids.push(...repeated.map((e) => e.uuid as string));
      }
      deliveries.push(fresh);
    }
    const statuses: number[] = [];
    await Promise.all(
      deliveries.map(async ({ envelope }) => {
        // Okta retries a 5xx; this bounded loop plays its retry until the delivery is stored.
        for (let attempt = 0; attempt < 10; attempt++) {
          const res = await postOktaDelivery(envelope, flaky);
          statuses.push(res.status);
          if (res.status === 204) return;
        }
        throw new Error("a delivery was refused ten times");
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([204, 503]));
    const expected = [...new Set(deliveries.flatMap((d) => d.uuids))].sort();
    expect(await storedUuids()).toEqual(expected);
    expect(await halfStored()).toEqual([]);
    await forwardEverything(clock.now() + UNFANNED_GRACE_MS + 60_000);
    await expectForwardedOnce(expected);
    expect(await halfStored()).toEqual([]);
  });
});
