/**
 * The consumer of {kind:"batches"} messages (src/queue/fan-out-batches.ts, src/queue/consumer.ts): each batch is
 * fanned out with its own lease, at most 4 at a time; the message is acked when all are done and retried when one
 * failed, and the retry sends only what is still in the outbox. A batch that is gone or leased elsewhere is no error.
 * Old {kind:"batch"} messages still work; malformed ones are dropped; the dead-letter queue records every batch.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { FAN_OUT_START_BUDGET_MS, fanOutBatches, MAX_CONCURRENT_FAN_OUTS, MAX_FAN_OUTS_PER_INVOCATION } from "../../src/queue/fan-out-batches";
import { createLimit } from "../../src/queue/limit";
import { forwardMessage, MAX_BATCHES_PER_MESSAGE, type ForwardMessage } from "../../src/queue/messages";
import {
  batchOf,
  clearForwarding,
  consume,
  createDestination,
  createSlowDestinations,
  DEAD_LETTER_QUEUE_NAME,
  FORWARD_QUEUE_NAME,
  storeEvent,
  stubDestinations,
  stubHangingDestinations,
} from "../helpers/forwarding";
import { logLines } from "../helpers/events";

async function outboxIds(): Promise<number[]> {
  const { results } = await env.DB.prepare("SELECT batch_id FROM forward_outbox ORDER BY batch_id").all<{ batch_id: number }>();
  return results.map((r) => r.batch_id);
}

/** `n` stored one-event batches: their uuids and batch ids. */
async function storeBatches(n: number): Promise<{ uuids: string[]; batchIds: number[] }> {
  const uuids: string[] = [];
  for (let i = 0; i < n; i++) uuids.push(await storeEvent());
  return { uuids, batchIds: await Promise.all(uuids.map(batchOf)) };
}

/** How many times each uuid reached a destination. */
function receivedCounts(captured: Array<{ body: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of captured) {
    const uuid = JSON.parse(c.body).data.uuid as string;
    counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
  }
  return counts;
}

/**
 * The test D1, with the transaction that takes batch `batchId` out of the outbox (its fan-out's recording) failing:
 * the other batches' fan-outs go through.
 */
function databaseFailingFor(batchId: number): D1Database {
  const poisoned = new WeakSet<object>();
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          const statement = target.prepare(sql);
          if (!sql.startsWith("DELETE FROM forward_outbox")) return statement;
          return new Proxy(statement, {
            get(st, p) {
              if (p === "bind") {
                return (...values: unknown[]) => {
                  const bound = st.bind(...values);
                  if (values[0] === batchId) poisoned.add(bound);
                  return bound;
                };
              }
              const value = Reflect.get(st, p);
              return typeof value === "function" ? value.bind(st) : value;
            },
          });
        };
      }
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) =>
          statements.some((s) => poisoned.has(s)) ? Promise.reject(new Error("D1_ERROR: simulated failure of one transaction")) : target.batch(statements);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

beforeEach(clearForwarding);
afterEach(() => vi.restoreAllMocks());

describe("a batches message", () => {
  it("fans out every batch it holds and is acked; a fan-out line per batch", async () => {
    await createDestination({});
    const { uuids, batchIds } = await storeBatches(3);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result: consumed, lines } = await logLines(() => consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds }]));
    const { result, batch } = consumed;
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);
    expect(receivedCounts(captured)).toEqual(new Map(uuids.map((u) => [u, 1])));
    expect(await outboxIds()).toEqual([]);
    const fanOuts = lines.filter((l) => l.msg === "fan-out");
    expect(fanOuts.map((l) => l.batchId).sort()).toEqual([...batchIds].sort());
    expect(fanOuts.every((l) => l.outcome === "fanned_out" && l.delivered === 1)).toBe(true);
  });

  it("one batch's fan-out failing retries the message; the retry does not send the delivered batches again", async () => {
    await createDestination({});
    const { uuids, batchIds } = await storeBatches(3);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const failing = batchIds[1]!;
    const { result: first, lines } = await logLines(() => consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds }], { env: { DB: databaseFailingFor(failing) } }));
    expect(first.result.explicitAcks).toEqual([]);
    expect(first.result.retryMessages).toEqual([expect.objectContaining({ msgId: first.batch.messages[0]!.id })]);
    // The failed batch gave its lease back and stays in the outbox; the others are done.
    expect(await outboxIds()).toEqual([failing]);
    expect(await env.DB.prepare("SELECT lease_until FROM forward_outbox").first()).toEqual({ lease_until: null });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: "error", msg: "fan-out failed", batchId: failing }),
        expect.objectContaining({ level: "error", msg: "forward message failed; retrying", kind: "batches", batchIds: batchIds.join(",") }),
      ]),
    );

    // The retry (same message, D1 healthy): only the failed batch is fanned out again.
    const again = await consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds }]);
    expect(again.result.explicitAcks).toEqual([again.batch.messages[0]!.id]);
    expect(receivedCounts(captured)).toEqual(
      new Map([
        [uuids[0]!, 1],
        [uuids[1]!, 2], // attempted before its recording failed, then again: at least once
        [uuids[2]!, 1],
      ]),
    );
    expect(await outboxIds()).toEqual([]);
    // A third copy: nothing is due, nothing sent, acked.
    const third = await consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds }]);
    expect(third.result.explicitAcks).toEqual([third.batch.messages[0]!.id]);
    expect(captured).toHaveLength(4);
  });

  it("a batch that is gone or leased by another consumer is skipped without an error; the message is acked", async () => {
    await createDestination({});
    const { uuids, batchIds } = await storeBatches(2);
    await env.DB.prepare("UPDATE forward_outbox SET lease_until = ?1 WHERE batch_id = ?2").bind(Date.now() + 60_000, batchIds[1]).run();
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result: consumed, lines } = await logLines(() => consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds: [987_654_321, ...batchIds] }]));
    const { result, batch } = consumed;
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(receivedCounts(captured)).toEqual(new Map([[uuids[0]!, 1]]));
    expect(await outboxIds()).toEqual([batchIds[1]]);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("an old batch message (in flight when batches messages deployed) still fans out its batch", async () => {
    await createDestination({});
    const uuid = await storeEvent();
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result, batch } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId: await batchOf(uuid) }]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(receivedCounts(captured)).toEqual(new Map([[uuid, 1]]));
  });

  it("malformed batches messages (no ids, over 100, not positive integers) are dropped as malformed", async () => {
    await createDestination({});
    const uuid = await storeEvent();
    const batchId = await batchOf(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const malformed = [
      { kind: "batches", batchIds: [] },
      { kind: "batches", batchIds: Array.from({ length: MAX_BATCHES_PER_MESSAGE + 1 }, () => batchId) },
      { kind: "batches", batchIds: [batchId, 1.5] },
      { kind: "batches", batchIds: [batchId, -1] },
      { kind: "batches", batchIds: [String(batchId)] },
      { kind: "batches", batchIds: batchId },
      { kind: "batches" },
    ] as unknown as ForwardMessage[];
    const { result: consumed, lines } = await logLines(() => consume(FORWARD_QUEUE_NAME, malformed));
    const { result, batch } = consumed;
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(captured).toEqual([]);
    expect(await outboxIds()).toEqual([batchId]);
    expect(lines.filter((l) => l.msg === "malformed forward message dropped")).toHaveLength(malformed.length);
  });

  it("a repeated id is fanned out once", () => {
    expect(forwardMessage.parse({ kind: "batches", batchIds: [7, 3, 7, 3, 1] })).toEqual({ kind: "batches", batchIds: [7, 3, 1] });
  });
});

/** Batches whose fan-out is under way (their outbox lease taken). */
async function leasedCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM forward_outbox WHERE lease_until IS NOT NULL").first<{ n: number }>();
  return row!.n;
}

describe("fan-outs of one message", () => {
  it(`run at most ${MAX_CONCURRENT_FAN_OUTS} at a time; a batch whose turn comes after the start budget is left, untouched, for a new message`, async () => {
    const [slow] = await createSlowDestinations(1);
    const { batchIds } = await storeBatches(MAX_CONCURRENT_FAN_OUTS + 1);
    const { release, captured } = stubHangingDestinations();
    const { config } = getConfig(env as unknown as Env);
    const running = fanOutBatches({ env: env as unknown as Env, config, limit: createLimit(6), startBudgetMs: 100 }, batchIds);
    // That many fan-outs hold their sends; the next waits for a turn that only comes once one of them ends.
    await vi.waitFor(() => expect(captured).toHaveLength(MAX_CONCURRENT_FAN_OUTS), { timeout: 5_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect(captured).toHaveLength(MAX_CONCURRENT_FAN_OUTS);
    expect(await leasedCount()).toBe(MAX_CONCURRENT_FAN_OUTS);
    release.forEach((r) => r());
    const outcome = await running;
    expect(slow).toBeDefined();
    expect(outcome.fannedOut).toBe(MAX_CONCURRENT_FAN_OUTS);
    expect(outcome.failed).toEqual([]);
    expect(outcome.late).toHaveLength(1);
    // Never leased, still in the outbox: its own message (or the sweeper) fans it out.
    expect(await outboxIds()).toEqual(outcome.late);
    expect(await env.DB.prepare("SELECT lease_until FROM forward_outbox").first()).toEqual({ lease_until: null });
  });
});

describe("a batches message whose last batches wait too long for a turn", () => {
  it("acks, having handed the batches it did not start to a new message", async () => {
    await createSlowDestinations(1);
    const { batchIds } = await storeBatches(MAX_CONCURRENT_FAN_OUTS + 1);
    const { release, captured } = stubHangingDestinations();
    // Only Date is faked: the fan-outs' sends hang (real timers) while the clock moves past the start budget.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      const running = consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds }]);
      await vi.waitFor(() => expect(captured).toHaveLength(MAX_CONCURRENT_FAN_OUTS), { timeout: 5_000, interval: 20 });
      vi.setSystemTime(Date.now() + FAN_OUT_START_BUDGET_MS + 1_000);
      release.forEach((r) => r());
      const { result, batch, forwarded } = await running;
      expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
      const late = await outboxIds();
      expect(late).toHaveLength(1);
      expect(forwarded).toEqual([{ kind: "batches", batchIds: late }]);
      expect(captured).toHaveLength(MAX_CONCURRENT_FAN_OUTS);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("the batches messages of one queue invocation", () => {
  it(`start at most ${MAX_FAN_OUTS_PER_INVOCATION} fan-outs between them (D1's queries per invocation); the rest go to a new message`, async () => {
    await createDestination({});
    const over = 10;
    const { uuids, batchIds } = await storeBatches(MAX_FAN_OUTS_PER_INVOCATION + over);
    // As if their message had waited in the queue for an hour: the hand-off starts their lost-message grace again.
    await env.DB.prepare("UPDATE forward_outbox SET enqueued_at = ?1").bind(Date.now() - 3_600_000).run();
    const handedFrom = Date.now();
    const half = Math.ceil(batchIds.length / 2);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result, batch, forwarded } = await consume(FORWARD_QUEUE_NAME, [
      { kind: "batches", batchIds: batchIds.slice(0, half) },
      { kind: "batches", batchIds: batchIds.slice(half) },
    ]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(captured).toHaveLength(MAX_FAN_OUTS_PER_INVOCATION);
    // The last batches of the second message were never leased: a message of their own fans them out.
    const left = batchIds.slice(-over);
    expect(await outboxIds()).toEqual(left);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM forward_outbox WHERE lease_until IS NOT NULL").first()).toEqual({ n: 0 });
    expect(forwarded).toEqual([{ kind: "batches", batchIds: left }]);
    const stale = await env.DB.prepare("SELECT count(*) AS n FROM forward_outbox WHERE enqueued_at < ?1").bind(handedFrom).first<{ n: number }>();
    expect(stale!.n).toBe(0);
    const next = await consume(FORWARD_QUEUE_NAME, forwarded);
    expect(next.result.explicitAcks).toEqual([next.batch.messages[0]!.id]);
    expect(receivedCounts(captured)).toEqual(new Map(uuids.map((u) => [u, 1])));
  });

  it(`run at most ${MAX_CONCURRENT_FAN_OUTS} fan-outs at a time between them`, async () => {
    await createSlowDestinations(1);
    const { batchIds } = await storeBatches(MAX_CONCURRENT_FAN_OUTS + 2);
    const { release, captured } = stubHangingDestinations();
    const running = consume(FORWARD_QUEUE_NAME, [
      { kind: "batches", batchIds: batchIds.slice(0, 3) },
      { kind: "batches", batchIds: batchIds.slice(3) },
    ]);
    await vi.waitFor(() => expect(captured).toHaveLength(MAX_CONCURRENT_FAN_OUTS), { timeout: 5_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect(captured).toHaveLength(MAX_CONCURRENT_FAN_OUTS);
    // The sends are capped too (six connections): the leases say how many fan-outs are under way.
    expect(await leasedCount()).toBe(MAX_CONCURRENT_FAN_OUTS);
    release.forEach((r) => r());
    // The later fan-outs' sends hang too: release them as they come.
    await vi.waitFor(
      () => {
        release.forEach((r) => r());
        expect(captured).toHaveLength(batchIds.length);
      },
      { timeout: 5_000, interval: 20 },
    );
    release.forEach((r) => r());
    const { result, batch } = await running;
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
  });
});

describe("the dead-letter queue", () => {
  it("records every batch of a batches message the platform gave up on; the batches stay in the outbox", async () => {
    await createDestination({ state: "paused" });
    const { batchIds } = await storeBatches(3);
    const { result: consumed, lines } = await logLines(() => consume(DEAD_LETTER_QUEUE_NAME, [{ kind: "batches", batchIds }]));
    const { result, batch } = consumed;
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    const recorded = lines.filter((l) => l.msg === "batch fan-out dead-lettered by the platform; it stays in the outbox for the sweeper");
    expect(recorded.map((l) => l.batchId)).toEqual(batchIds);
    expect(recorded.every((l) => l.level === "error")).toBe(true);
    expect(await outboxIds()).toEqual([...batchIds].sort((a, b) => a - b));
  });
});
