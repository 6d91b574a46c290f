/**
 * A destination down for a long stretch (docs/forwarding.md "Retries" and "Operations"), in virtual time: every
 * retry comes on the documented schedule (src/forwarding/backoff.ts: ×3 from the base, ±20 % jitter, capped at
 * 12 h), everything is delivered once the receiver is back and nothing is re-sent after; past the whole schedule a
 * delivery is dead with a dead letter, never dropped silently; after DESTINATION_DISABLE_AFTER_FAILURES
 * consecutive failures the destination is disabled, nothing more is attempted, events keep arriving and wait, and
 * re-enabling it delivers every one of them. A healthy destination beside it gets each event once, on time.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import { adminCall, call, oktaDelivery, postOktaDelivery } from "../../helpers/forwarding";
import { destinationAt, endWorld, freshWorld, MAX_BATCH_SIZE, runCron, stubReceiver, T0, type ReceivedRequest, type SimulatedQueue, type VirtualClock, type World } from "./harness";
import { count, forwardingOutcomes, halfStored } from "./ledger";
import { TEST_ADMIN_TOKEN } from "../../test-config";

const HOUR = 3_600_000;
const BASE_SECONDS = 5;
/**
 * The schedule as docs/forwarding.md "Retries" promises it for the default base of 5 s, written out here rather
 * than computed with src/forwarding/backoff.ts, so a change to the code that breaks the promise fails this test.
 */
const DOCUMENTED_DELAYS_SECONDS = [5, 15, 45, 135, 405, 1215, 3645, 10935, 32805, 43200, 43200, 43200];
const DOCUMENTED_JITTER = 0.2;
const DOCUMENTED_ATTEMPTS = 13;

let clock: VirtualClock;
let queue: SimulatedQueue;
let receiver: ReturnType<typeof stubReceiver>;
/** Until when /down answers 503 (virtual time). */
let downUntil: number;
let errors: World["errors"];

afterEach(endWorld);

/**
 * A destination that is down until `downUntil` and a healthy one, with auto-disable after `disableAfterFailures`
 * consecutive failures over at least `disableAfterMinutes` (0: the count alone).
 */
async function setUp(disableAfterFailures: number, disableAfterMinutes = 0) {
  const world = await freshWorld({
    FORWARD_RETRY_BASE_SECONDS: String(BASE_SECONDS),
    DESTINATION_DISABLE_AFTER_FAILURES: String(disableAfterFailures),
    DESTINATION_DISABLE_AFTER_MINUTES: String(disableAfterMinutes),
  });
  ({ clock, queue, errors } = world);
  downUntil = Infinity;
  receiver = stubReceiver(({ destinationPath }) => (destinationPath === "/down" && clock.now() < downUntil ? 503 : 204));
  return { e: world.env, down: await destinationAt(receiver, "/down", world.env), up: await destinationAt(receiver, "/up", world.env) };
}

async function postDeliveries(e: Env, deliveries: number, eventsEach: number): Promise<string[]> {
  const uuids: string[] = [];
  for (let i = 0; i < deliveries; i++) {
    const { envelope, uuids: these } = oktaDelivery(i % 2 ? "user.session.start" : "user.lifecycle.create", Array.from({ length: eventsEach }, () => ({})));
    expect((await postOktaDelivery(envelope, e)).status).toBe(204);
    uuids.push(...these);
  }
  return uuids;
}

/** Requests to `path` grouped by event, in time order. */
function attemptsByEvent(path: string): Map<string, ReceivedRequest[]> {
  const byEvent = new Map<string, ReceivedRequest[]>();
  for (const r of receiver.at(path)) byEvent.set(r.eventUuid, [...(byEvent.get(r.eventUuid) ?? []), r]);
  return byEvent;
}

/** Each gap between consecutive attempts is the documented delay for that retry, jitter included (whole seconds). */
function expectOnSchedule(attempts: ReceivedRequest[]): void {
  for (let k = 1; k < attempts.length; k++) {
    const gapSeconds = (attempts[k]!.at - attempts[k - 1]!.at) / 1000;
    const nominal = DOCUMENTED_DELAYS_SECONDS[k - 1]!;
    // The upper end is capped at 12 h, the longest delay Queues accept.
    expect(gapSeconds, `retry ${k}`).toBeGreaterThanOrEqual(Math.round(nominal * (1 - DOCUMENTED_JITTER)));
    expect(gapSeconds, `retry ${k}`).toBeLessThanOrEqual(Math.min(43200, Math.round(nominal * (1 + DOCUMENTED_JITTER))));
  }
}

async function deliveriesView(uuid: string) {
  const res = await adminCall("GET", `/events/${uuid}/deliveries`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { deliveries: Array<{ destinationId: string; state: string; attempts: number }> }).deliveries;
}

describe("a destination down for a long stretch, then back", () => {
  it("down 20 hours: every retry on the schedule, all delivered at the first retry after it is back, nothing re-sent", async () => {
    const { e, down, up } = await setUp(100_000);
    downUntil = T0 + 20 * HOUR;
    const early = await postDeliveries(e, 4, 3);
    await queue.drain(e, { until: T0 + 3 * HOUR });
    const during = await postDeliveries(e, 2, 3); // events keep arriving during the outage
    const all = [...early, ...during];
    await queue.drain(e, { until: T0 + 60 * HOUR });
    expect(queue.held).toEqual([]);

    const byEvent = attemptsByEvent("/down");
    expect([...byEvent.keys()].sort()).toEqual([...all].sort());
    for (const [uuid, attempts] of byEvent) {
      expectOnSchedule(attempts);
      const last = attempts.at(-1)!;
      // Failed while down, delivered by the first attempt after, and never attempted again.
      expect(attempts.slice(0, -1).every((a) => a.status === 503 && a.at < downUntil), uuid).toBe(true);
      expect(last.status).toBe(204);
      expect(last.at).toBeGreaterThanOrEqual(downUntil);
      // One webhook-id per (event, destination), on every retry: receivers can de-duplicate.
      expect(new Set(attempts.map((a) => a.webhookId)).size).toBe(1);
    }
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
    expect(receiver.acceptedCounts("/up")).toEqual(new Map(all.map((u) => [u, 1])));
    expect(receiver.at("/up").every((r) => r.status === 204)).toBe(true);

    const outcomes = await forwardingOutcomes(down);
    expect([...outcomes.delivered].sort()).toEqual([...all].sort());
    expect(outcomes.open.size + outcomes.dead.size).toBe(0);
    expect([...(await forwardingOutcomes(up)).delivered].sort()).toEqual([...all].sort());
    expect(await count("dead_letters")).toBe(0);
    expect(await halfStored()).toEqual([]);
    // The operator's view agrees, attempt for attempt.
    const view = await deliveriesView(early[0]!);
    expect(view.find((d) => d.destinationId === down)).toMatchObject({ state: "delivered", attempts: byEvent.get(early[0]!)!.length });
    expect(view.find((d) => d.destinationId === up)).toMatchObject({ state: "delivered", attempts: 1 });
  });

  it("down past the whole schedule: each delivery is dead after its last attempt, with a dead letter, none dropped", async () => {
    const { e, down } = await setUp(100_000);
    const uuids = await postDeliveries(e, 2, 2);
    await queue.drain(e, { until: T0 + 4 * 24 * HOUR });
    expect(queue.held).toEqual([]);
    const byEvent = attemptsByEvent("/down");
    for (const uuid of uuids) {
      const attempts = byEvent.get(uuid)!;
      expect(attempts).toHaveLength(DOCUMENTED_ATTEMPTS);
      expectOnSchedule(attempts);
      // At least a day and a half of trying, even if every jitter landed low (docs/forwarding.md: ≈ 39.7 h).
      expect(attempts.at(-1)!.at - attempts[0]!.at).toBeGreaterThan(39 * HOUR);
    }
    const outcomes = await forwardingOutcomes(down);
    expect([...outcomes.dead].sort()).toEqual([...uuids].sort());
    const letters = await count("dead_letters");
    expect(letters).toBe(uuids.length);
  });
});

describe("auto-disable after consecutive failures, then re-enabled", () => {
  it("stops attempting at the threshold, keeps what arrives waiting, and delivers everything once re-enabled", async () => {
    const threshold = 10;
    const { e, down, up } = await setUp(threshold);
    const before = await postDeliveries(e, 2, 3); // 6 failed first attempts, in 2 deliveries
    await queue.drain(e, { until: T0 + HOUR });
    // 6 first attempts and the retries reach the threshold; retries that come after the disable find it disabled
    // and wait (attempts already under way in the same invocation still finish).
    const disabled = await env.DB.prepare("SELECT state, consecutive_failures, updated_at FROM destinations WHERE id = ?1")
      .bind(down)
      .first<{ state: string; consecutive_failures: number; updated_at: number }>();
    expect(disabled).toMatchObject({ state: "disabled" });
    const attemptsBeforeDisable = receiver.at("/down").length;
    // Each failed attempt counts, but a delivery's first attempts (3 at once, in each of the 2) count as one.
    expect(disabled!.consecutive_failures).toBe(attemptsBeforeDisable - (before.length - 2));
    expect(attemptsBeforeDisable).toBeGreaterThanOrEqual(threshold);
    // Before the invocation that disabled it, the count had not been reached; in that invocation (one virtual
    // instant) the attempts under way at once all finished: at most one queue batch of them.
    const earlier = receiver.at("/down").filter((r) => r.at < disabled!.updated_at).length;
    expect(earlier).toBeLessThan(before.length + threshold);
    expect(attemptsBeforeDisable - earlier).toBeLessThanOrEqual(MAX_BATCH_SIZE);
    expect(receiver.at("/down").every((r) => r.at <= disabled!.updated_at)).toBe(true);
    const destination = await (await adminCall("GET", `/destinations/${down}`)).json();
    expect(destination).toMatchObject({ state: "disabled" });
    const health = await call("/healthz", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }, e);
    expect(await health.json()).toMatchObject({ status: "degraded", disabledDestinations: [expect.objectContaining({ id: down })] });
    expect(errors.mock.calls.flat().join("\n")).toContain("destination disabled after consecutive failures");

    // Events keep arriving while it is disabled (and the receiver comes back): they wait, nothing is attempted.
    downUntil = T0 + 2 * HOUR;
    clock.set(T0 + 3 * HOUR);
    const whileDisabled = await postDeliveries(e, 1, 3);
    await queue.drain(e, { until: T0 + 3 * 24 * HOUR });
    await runCron(e, clock.now()); // the sweep leaves a disabled destination's waiting deliveries alone
    await queue.drain(e, { until: clock.now() });
    expect(receiver.at("/down")).toHaveLength(attemptsBeforeDisable);
    const all = [...before, ...whileDisabled];
    const waiting = await forwardingOutcomes(down);
    expect([...waiting.open].sort()).toEqual([...all].sort());

    // Re-enabled: every waiting delivery is sent, once.
    expect((await adminCall("PATCH", `/destinations/${down}`, { state: "active" }, e)).status).toBe(200);
    await queue.drain(e, { until: clock.now() + HOUR });
    expect(receiver.acceptedCounts("/down")).toEqual(new Map(all.map((u) => [u, 1])));
    const after = await forwardingOutcomes(down);
    expect([...after.delivered].sort()).toEqual([...all].sort());
    expect(after.open.size + after.dead.size).toBe(0);
    expect(receiver.acceptedCounts("/up")).toEqual(new Map(all.map((u) => [u, 1])));
    expect([...(await forwardingOutcomes(up)).delivered].sort()).toEqual([...all].sort());
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
    expect(await count("dead_letters")).toBe(0);
    expect(await halfStored()).toEqual([]);
  });

  it("with the defaults (100 failures over at least 60 minutes), a burst of failures in a short blip does not disable it; an outage of hours does", async () => {
    const { e, down } = await setUp(100, 60);
    const state = () =>
      env.DB.prepare("SELECT state, consecutive_failures, disabled_reason FROM destinations WHERE id = ?1").bind(down).first<{ state: string; consecutive_failures: number; disabled_reason: string | null }>();
    // A 3-minute blip under a burst of 120 one-event deliveries: far more than 100 failed attempts, in minutes.
    downUntil = T0 + 3 * 60_000;
    const burst = await postDeliveries(e, 120, 1);
    await queue.drain(e, { until: T0 + HOUR });
    expect(receiver.at("/down").filter((r) => r.status === 503).length).toBeGreaterThan(100);
    expect(await state()).toEqual({ state: "active", consecutive_failures: 0, disabled_reason: null });
    expect(receiver.acceptedCounts("/down")).toEqual(new Map(burst.map((u) => [u, 1])));

    // Down for good from two hours in: the run passes 100 failures within minutes, and disables it after an hour.
    downUntil = Infinity;
    clock.set(T0 + 2 * HOUR);
    const outage = await postDeliveries(e, 120, 1);
    await queue.drain(e, { until: T0 + 5 * HOUR });
    const disabled = await state();
    expect(disabled).toMatchObject({ state: "disabled" });
    expect(disabled!.disabled_reason).toMatch(/^disabled automatically after \d+ consecutive failed attempts over (6\d|[7-9]\d) minutes$/);
    const failedFirst = receiver.at("/down").filter((r) => r.at >= T0 + 2 * HOUR);
    const disabledAt = await env.DB.prepare("SELECT disabled_at AS at FROM destinations WHERE id = ?1").bind(down).first<{ at: number }>();
    expect(disabledAt!.at - failedFirst[0]!.at).toBeGreaterThanOrEqual(HOUR);
    // Nothing lost: every event of the outage waits for the destination to be re-enabled.
    expect([...(await forwardingOutcomes(down)).open].sort()).toEqual([...outage].sort());
  });

});
