/**
 * The resilience suite's stand-ins for the platform inside workerd, so failures and time can be injected while the
 * Worker's own code (routes, ingest, consumer, sweep) runs unchanged against the real local D1:
 *
 * - a virtual clock: vitest's fake Date, which every `Date.now()` of the Worker reads (it runs in the test's
 *   isolate), so two days of retries take no wall time;
 * - SimulatedQueue: the forward queue with Cloudflare Queues' consumer semantics in that virtual time — per-message
 *   `delaySeconds` on send and on `retry()`, the first ack/retry of a message wins, a handler that returns acks what
 *   it did not retry, a handler that throws retries what it did not ack, at-least-once, `max_batch_size` and
 *   `max_retries` from wrangler.toml (https://developers.cloudflare.com/queues/configuration/batching-retries/).
 *   Local Queues run in real time and do not report delays, which is why they are not used here;
 * - faultyDatabase: the real D1 binding with chosen calls failing before they reach D1, inside D1's transaction
 *   (after earlier statements of the batch ran), or after D1 committed (the reply is lost);
 * - a receiver: fetch replaced by destinations that answer as the test says, recording every request and verifying
 *   its Standard Webhooks signature with the `standardwebhooks` package, independently of our signing code.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { vi } from "vitest";
import type { Env } from "../../../src/env";
import worker from "../../../src/index";
import type { ForwardMessage } from "../../../src/queue/messages";
import { createDestination, envWith, FORWARD_QUEUE_NAME } from "../../helpers/forwarding";
import { clearStore } from "./ledger";

/** wrangler.toml [[queues.consumers]] of the forward queue. */
export const MAX_BATCH_SIZE = 25;
export const MAX_RETRIES = 100;

export const T0 = Date.parse("2026-11-24T08:00:00.000Z");

export interface VirtualClock {
  now(): number;
  set(at: number): void;
  advance(ms: number): void;
}

/** Fake `Date` only (timers stay real: fetch timeouts and D1 still work); undo with vi.useRealTimers(). */
export function useVirtualClock(start = T0): VirtualClock {
  vi.useFakeTimers({ toFake: ["Date"], now: start });
  return {
    now: () => Date.now(),
    set: (at) => vi.setSystemTime(at),
    advance: (ms) => vi.setSystemTime(Date.now() + ms),
  };
}

interface HeldMessage {
  id: string;
  body: ForwardMessage;
  attempts: number;
  visibleAt: number;
  timestamp: Date;
}

export interface InvocationReport {
  messages: number;
  acked: ForwardMessage[];
  retried: Array<{ body: ForwardMessage; delaySeconds: number | undefined }>;
  /** The handler threw (every message it had not acked is retried). */
  threw: unknown;
}

/** The forward queue in virtual time; `failSend` makes sends fail (a queue outage) for the bodies it picks. */
export class SimulatedQueue {
  readonly held: HeldMessage[] = [];
  /** Messages that exhausted max_retries (the platform would move them to the dead-letter queue). */
  readonly deadLettered: ForwardMessage[] = [];
  /** Every body accepted, in order, with the delay it asked for. */
  readonly accepted: Array<{ body: ForwardMessage; delaySeconds: number | undefined }> = [];
  failSend: (body: ForwardMessage) => boolean = () => false;
  private nextId = 1;

  constructor(private readonly clock: VirtualClock) {}

  /** The binding the Worker sends through. */
  readonly binding = {
    send: async (body: ForwardMessage, options?: QueueSendOptions) => {
      if (this.failSend(body)) throw new Error("Queue send failed (simulated outage)");
      this.hold(body, options?.delaySeconds);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<ForwardMessage>>) => {
      const list = [...messages];
      // A sendBatch is accepted whole or refused whole.
      if (list.some((m) => this.failSend(m.body))) throw new Error("Queue sendBatch failed (simulated outage)");
      for (const m of list) this.hold(m.body, m.delaySeconds);
    },
    metrics: async () => ({ backlogCount: this.held.length, backlogBytes: 0 }),
  } as unknown as Queue<ForwardMessage>;

  private hold(body: ForwardMessage, delaySeconds: number | undefined): void {
    this.accepted.push({ body, delaySeconds });
    const now = this.clock.now();
    this.held.push({ id: `msg-${this.nextId++}`, body, attempts: 1, visibleAt: now + (delaySeconds ?? 0) * 1000, timestamp: new Date(now) });
  }

  /** When the next held message becomes visible, or null when the queue is empty. */
  nextVisibleAt(): number | null {
    return this.held.reduce<number | null>((min, m) => (min === null || m.visibleAt < min ? m.visibleAt : min), null);
  }

  due(): HeldMessage[] {
    const now = this.clock.now();
    return this.held.filter((m) => m.visibleAt <= now);
  }

  /**
   * Hand up to MAX_BATCH_SIZE due messages (oldest first) to the Worker's queue handler, as one invocation.
   * `crash`: the invocation dies after its work but before any ack or retry reaches the queue, so every message is
   * delivered again (what Queues does for an invocation that fails).
   */
  async invoke(env: Env, options: { crash?: boolean } = {}): Promise<InvocationReport> {
    const taken = this.due()
      .sort((a, b) => a.visibleAt - b.visibleAt)
      .slice(0, MAX_BATCH_SIZE);
    for (const m of taken) this.held.splice(this.held.indexOf(m), 1);
    const decided = new Map<string, { retry: boolean; delaySeconds?: number }>();
    const decide = (id: string, d: { retry: boolean; delaySeconds?: number }) => {
      if (!decided.has(id)) decided.set(id, d);
    };
    const messages = taken.map((m) => ({
      id: m.id,
      timestamp: m.timestamp,
      body: structuredClone(m.body),
      attempts: m.attempts,
      ack: () => decide(m.id, { retry: false }),
      retry: (options?: QueueRetryOptions) => decide(m.id, { retry: true, delaySeconds: options?.delaySeconds }),
    }));
    const batch = {
      queue: FORWARD_QUEUE_NAME,
      messages,
      ackAll: () => messages.forEach((m) => m.ack()),
      retryAll: (options?: QueueRetryOptions) => messages.forEach((m) => m.retry(options)),
    } as unknown as MessageBatch<ForwardMessage>;
    const ctx = createExecutionContext();
    let threw: unknown;
    try {
      await worker.queue(batch, env, ctx);
    } catch (error) {
      threw = error ?? new Error("queue handler threw");
    }
    await waitOnExecutionContext(ctx);
    const report: InvocationReport = { messages: taken.length, acked: [], retried: [], threw };
    if (options.crash) decided.clear();
    for (const m of taken) {
      const decision = decided.get(m.id) ?? { retry: threw !== undefined || options.crash === true };
      if (!decision.retry) {
        report.acked.push(m.body);
        continue;
      }
      report.retried.push({ body: m.body, delaySeconds: decision.delaySeconds });
      if (m.attempts >= MAX_RETRIES + 1) {
        this.deadLettered.push(m.body);
        continue;
      }
      this.held.push({ ...m, attempts: m.attempts + 1, visibleAt: this.clock.now() + (decision.delaySeconds ?? 0) * 1000 });
    }
    return report;
  }

  /**
   * Run the consumer until nothing is due at or before `until`, moving the clock to each next visible message.
   * Bounded by `maxInvocations`; answers how many invocations ran. The clock ends at `until` (or where it was,
   * when that is later).
   */
  async drain(env: Env, options: { until: number; maxInvocations?: number; onInvocation?: (r: InvocationReport) => void }): Promise<number> {
    const max = options.maxInvocations ?? 2_000;
    let invocations = 0;
    for (;;) {
      const next = this.nextVisibleAt();
      if (next === null || next > options.until) break;
      if (next > this.clock.now()) this.clock.set(next);
      if (invocations >= max) throw new Error(`the queue did not drain within ${max} invocations`);
      const report = await this.invoke(env);
      invocations++;
      options.onInvocation?.(report);
    }
    if (this.clock.now() < options.until) this.clock.set(options.until);
    return invocations;
  }
}

/** Run the Worker's cron handler (the outbox sweep) as Cloudflare would at `scheduledTime`. */
export async function runCron(env: Env, scheduledTime: number): Promise<void> {
  const controller = createScheduledController({ scheduledTime, cron: "*/5 * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

/** How a faulty database fails a call it picks. */
export type Fault =
  /** Rejects without reaching D1 (D1 unreachable). */
  | { kind: "unreachable" }
  /** A statement that fails inside D1 runs before statement `at` of the batch, after the earlier ones ran. */
  | { kind: "fails-inside"; at: number }
  /** D1 runs and commits the call, then the reply is lost: the Worker sees an error. */
  | { kind: "reply-lost" };

export interface DatabaseCall {
  /** The SQL of each statement, in order (one for a single statement). */
  sql: string[];
  /** The values bound to each statement. */
  args: unknown[][];
  batch: boolean;
}

const SIMULATED = "D1_ERROR: simulated failure";
/** Fails at run time inside D1 (malformed JSON), so the statements before it in the batch did run. */
const FAILING_SQL = "SELECT json_extract('{not json', '$') AS boom";

interface RecordedStatement {
  real: D1PreparedStatement;
  sql: string;
  args: unknown[];
}

/** `db` with the calls that `pick` chooses failing as it says (undefined: the call goes through). */
export function faultyDatabase(db: D1Database, pick: (call: DatabaseCall) => Fault | undefined): D1Database {
  const recorded = new WeakMap<object, RecordedStatement>();
  const statement = (entry: RecordedStatement): D1PreparedStatement => {
    const single = async <T>(run: (s: D1PreparedStatement) => Promise<T>): Promise<T> => {
      const fault = pick({ sql: [entry.sql], args: [entry.args], batch: false });
      if (fault?.kind === "unreachable" || fault?.kind === "fails-inside") throw new Error(SIMULATED);
      const result = await run(entry.real);
      if (fault?.kind === "reply-lost") throw new Error(`${SIMULATED} (reply lost)`);
      return result;
    };
    const wrapper = {
      bind: (...values: unknown[]) => statement({ real: entry.real.bind(...values), sql: entry.sql, args: values }),
      first: (column?: string) => single((s) => (column === undefined ? s.first() : s.first(column))),
      run: () => single((s) => s.run()),
      all: () => single((s) => s.all()),
      raw: (options?: { columnNames?: boolean }) => single((s) => s.raw(options as { columnNames: true })),
    } as unknown as D1PreparedStatement;
    recorded.set(wrapper, entry);
    return wrapper;
  };
  return {
    prepare: (sql: string) => statement({ real: db.prepare(sql), sql, args: [] }),
    batch: async (statements: D1PreparedStatement[]) => {
      const entries = statements.map((s) => {
        const entry = recorded.get(s);
        if (!entry) throw new Error("faultyDatabase.batch: a statement from another database");
        return entry;
      });
      const fault = pick({ sql: entries.map((e) => e.sql), args: entries.map((e) => e.args), batch: true });
      if (fault?.kind === "unreachable") throw new Error(SIMULATED);
      const real = entries.map((e) => e.real);
      if (fault?.kind === "fails-inside") {
        real.splice(fault.at, 0, db.prepare(FAILING_SQL));
        return db.batch(real); // D1 rolls the whole batch back and rejects
      }
      const results = await db.batch(real);
      if (fault?.kind === "reply-lost") throw new Error(`${SIMULATED} (reply lost)`);
      return results;
    },
    exec: (sql: string) => db.exec(sql),
    dump: () => db.dump(),
    withSession: () => {
      throw new Error("faultyDatabase: sessions are not simulated");
    },
  } as unknown as D1Database;
}

export interface ReceivedRequest {
  destinationPath: string;
  eventUuid: string;
  webhookId: string;
  /** Virtual time of the request. */
  at: number;
  status: number | "network-error";
  signatureValid: boolean;
}

/** What a destination answers: an HTTP status, or a connection that fails. */
export type Answer = number | "network-error";

/**
 * Destinations at https://receiver.example.com/<path>: `answer` decides per request; every request is recorded, its
 * signature checked against the secret registered for its path.
 */
export function stubReceiver(answer: (request: { destinationPath: string; eventUuid: string }) => Answer) {
  const received: ReceivedRequest[] = [];
  const secrets = new Map<string, string>();
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = await request.text();
    const destinationPath = new URL(request.url).pathname;
    const eventUuid = ((JSON.parse(body) as { data?: { uuid?: string } }).data?.uuid ?? "") as string;
    const headers = {
      "webhook-id": request.headers.get("webhook-id") ?? "",
      "webhook-timestamp": request.headers.get("webhook-timestamp") ?? "",
      "webhook-signature": request.headers.get("webhook-signature") ?? "",
    };
    let signatureValid = false;
    const secret = secrets.get(destinationPath);
    if (secret) {
      try {
        new Webhook(secret).verify(body, headers);
        signatureValid = true;
      } catch {
        signatureValid = false;
      }
    }
    const status = answer({ destinationPath, eventUuid });
    received.push({ destinationPath, eventUuid, webhookId: headers["webhook-id"], at: Date.now(), status, signatureValid });
    if (status === "network-error") throw new TypeError("Network connection lost (simulated)");
    return new Response(null, { status });
  });
  return {
    received,
    /** Register a destination's signing secret (from its create response) for signature checks. */
    trust: (destinationPath: string, secret: string) => secrets.set(destinationPath, secret),
    at: (destinationPath: string) => received.filter((r) => r.destinationPath === destinationPath),
    /** uuid → how many 2xx answers the destination gave for it. */
    acceptedCounts: (destinationPath: string) => {
      const counts = new Map<string, number>();
      for (const r of received) {
        if (r.destinationPath === destinationPath && typeof r.status === "number" && r.status >= 200 && r.status < 300) {
          counts.set(r.eventUuid, (counts.get(r.eventUuid) ?? 0) + 1);
        }
      }
      return counts;
    },
  };
}

export interface World {
  clock: VirtualClock;
  queue: SimulatedQueue;
  /** The Worker's env with the simulated queue (and `vars`): D1 healthy. */
  env: Env;
  /** console.error, silenced (failures are expected here) and inspectable. */
  errors: ReturnType<typeof vi.spyOn>;
}

/** Each test's start: an empty store, the virtual clock at T0, a simulated forward queue, warn/error lines silenced. */
export async function freshWorld(vars: Partial<Env> = {}): Promise<World> {
  const clock = useVirtualClock();
  await clearStore();
  const queue = new SimulatedQueue(clock);
  const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
  return { clock, queue, env: envWith({ FORWARD_QUEUE: queue.binding, ...vars }), errors };
}

/** Each test's end: real time and fetch again. */
export function endWorld(): void {
  vi.useRealTimers();
  vi.restoreAllMocks();
}

/** A destination at https://receiver.example.com<path> whose signing secret the receiver trusts; answers its id. */
export async function destinationAt(receiver: ReturnType<typeof stubReceiver>, path: string, e: Env, input: Record<string, unknown> = {}): Promise<string> {
  const created = await createDestination({ name: path, url: `https://receiver.example.com${path}`, ...input }, e);
  receiver.trust(path, created.secret);
  return created.id;
}
