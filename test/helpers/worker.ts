/**
 * Calling the Worker inside workerd the way the runtime does: a fresh ExecutionContext per request, waited on
 * afterwards so work handed to waitUntil (marking events enqueued, audit records) has finished when a test looks
 * at D1. `overrides` replaces bindings for one call (a failing D1, a recording queue, other configuration).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../src/env";
import { send } from "./gateway";

export const BASE = "https://gateway.test";

/** Anything with the Worker's fetch signature: the exported worker, or an app built for a test. */
export interface FetchHandler {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/** One request through `handler` with a fresh ExecutionContext, waiting for the work it handed to waitUntil. */
export async function runFetch(handler: FetchHandler, request: Request, bindings: Env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await handler.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A prepared Request through the Worker (see ./gateway.ts `request` for building one with credentials). */
export async function callWorker(request: Request, overrides: Partial<Env> = {}): Promise<Response> {
  return send(request, { env: overrides });
}

export async function countRows(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? 0;
}

/** A D1 binding whose every query fails, as when D1 is unreachable. */
export function failingDatabase(message = "D1_ERROR: simulated outage"): D1Database {
  const fail = () => Promise.reject(new Error(message));
  const statement = {
    bind: () => statement,
    first: fail,
    run: fail,
    all: fail,
    raw: fail,
  } as unknown as D1PreparedStatement;
  return {
    prepare: () => statement,
    batch: fail,
    exec: fail,
    dump: fail,
    withSession: () => {
      throw new Error(message);
    },
  } as unknown as D1Database;
}

/** A queue producer that records what is sent, or fails every send (a queue outage). */
export interface RecordingQueue<T> extends Queue<T> {
  sent: T[];
  /** The delaySeconds each sent message asked for (same order as `sent`). */
  delays: Array<number | undefined>;
}

export function recordingQueue<T>(options: { fail?: boolean } = {}): RecordingQueue<T> {
  const sent: T[] = [];
  const delays: Array<number | undefined> = [];
  return {
    sent,
    delays,
    async send(body: T, opts?: QueueSendOptions) {
      if (options.fail) throw new Error("Queue send failed (simulated)");
      sent.push(body);
      delays.push(opts?.delaySeconds);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<T>>) {
      if (options.fail) throw new Error("Queue sendBatch failed (simulated)");
      for (const m of messages) {
        sent.push(m.body);
        delays.push(m.delaySeconds);
      }
    },
    async metrics() {
      return { backlogCount: 0, backlogBytes: 0 };
    },
  } as unknown as RecordingQueue<T>;
}
