/**
 * Test factories for forwarding: Okta deliveries built from the fixtures with fresh uuids, admin API calls through
 * the app, recording queues, a fetch spy standing in for destinations, and direct D1 reads.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports as workerExports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { parseSecretKeys } from "../../src/config";
import { loadKeyring } from "../../src/crypto/secret-box";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import type { DeadLetterMessage, ForwardMessage } from "../../src/queue/messages";
import sessionStart from "../fixtures/okta/event-hook.delivery.user-session-start.json";
import lifecycleCreate from "../fixtures/okta/captured/event-hook.delivery.user-lifecycle-create.json";
import { openDestinationSecret, type SecretColumn } from "../../src/storage/destination-secrets";

export const ADMIN_HEADERS = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
export const EVENT_HOOK_HEADERS = { authorization: TEST_EVENT_SECRET_NEW, "content-type": "application/json" };
export const FORWARD_QUEUE_NAME = "okta-hooks-edge-forward";
export const DEAD_LETTER_QUEUE_NAME = "okta-hooks-edge-forward-dlq";

type Envelope = typeof sessionStart;

/** An Okta delivery envelope holding copies of the fixture's event with fresh uuids (and optional changes). */
export function oktaDelivery(
  fixture: "user.session.start" | "user.lifecycle.create",
  changes: Array<Record<string, unknown>> = [{}],
): { envelope: Envelope; uuids: string[] } {
  const source = (fixture === "user.session.start" ? sessionStart : lifecycleCreate) as unknown as Envelope;
  const base = source.data.events[0]!;
  const events = changes.map((change) => ({ ...structuredClone(base), uuid: crypto.randomUUID(), ...change }));
  return {
    envelope: { ...structuredClone(source), eventId: crypto.randomUUID(), data: { events } } as Envelope,
    uuids: events.map((e) => e.uuid as string),
  };
}

export { recordingQueue, type RecordingQueue } from "./worker";
import { recordingQueue } from "./worker";
import { request, send } from "./gateway";
import { TEST_ADMIN_TOKEN, TEST_EVENT_SECRET_NEW, TEST_SECRETS_ENCRYPTION_KEY } from "../test-config";

/** The test env with some bindings or vars replaced (a new object: config is parsed per env object). */
export function envWith(overrides: Partial<Env>): Env {
  return { ...(env as unknown as Env), ...overrides };
}

/** Call the app like a client would, with an env of our choosing. */
export async function call(path: string, init: RequestInit = {}, e?: Env): Promise<Response> {
  return send(new Request(`https://gateway.test${path}`, init), { env: e });
}

export async function adminCall(method: string, path: string, body?: unknown, e?: Env): Promise<Response> {
  return request(`/admin/api${path}`, { as: "admin", method, body, env: e });
}

export interface CreatedDestination {
  id: string;
  secret: string;
}

export async function createDestination(input: Record<string, unknown>, e?: Env): Promise<CreatedDestination> {
  const res = await adminCall("POST", "/destinations", { name: "test", url: "https://receiver.example.com/okta", ...input }, e);
  if (res.status !== 201) throw new Error(`create destination: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedDestination;
}

/** POST a delivery: an envelope object, or its exact text. */
export async function postOktaDelivery(envelope: unknown, e?: Env): Promise<Response> {
  const body = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
  return call("/hooks/events", { method: "POST", headers: EVENT_HOOK_HEADERS, body }, e);
}

export interface CapturedRequest {
  url: string;
  headers: Headers;
  body: string;
}

/** Replace fetch with `respond`; every outbound request is captured. */
export function stubDestinations(respond: (request: CapturedRequest, init?: RequestInit) => Response | Promise<Response>) {
  const captured: CapturedRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const entry = { url: request.url, headers: request.headers, body: await request.text() };
    captured.push(entry);
    return respond(entry, init);
  });
  return { captured, spy };
}

/**
 * `count` destinations slow-0… at https://slow-<i>.example.com/hook (30 s timeout), answering their ids: six of them,
 * hanging (stubHangingDestinations), hold every one of an invocation's connections.
 */
export async function createSlowDestinations(count = 6): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await createDestination({ name: `slow-${i}`, url: `https://slow-${i}.example.com/hook`, timeoutMs: 30_000 })).id);
  return ids;
}

/**
 * Stub fetch: a request whose URL `hangs` waits until its entry of `release` is called (then 204); every other one
 * answers 204 at once.
 */
export function stubHangingDestinations(hangs: (url: string) => boolean = (url) => url.startsWith("https://slow-")) {
  const release: Array<() => void> = [];
  const { captured } = stubDestinations((request) =>
    hangs(request.url)
      ? new Promise<Response>((resolve) => release.push(() => resolve(new Response(null, { status: 204 }))))
      : new Response(null, { status: 204 }),
  );
  return { release, captured };
}

/** A fetch that never answers until its signal aborts (a destination that hangs). */
export function hang(init?: RequestInit): Promise<Response> {
  return new Promise((_, reject) => {
    const signal = init?.signal;
    if (!signal) return;
    signal.addEventListener("abort", () => reject(signal.reason));
  });
}

export interface DeliveryRowView {
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
}

export async function deliveryRow(uuid: string, destinationId: string): Promise<DeliveryRowView | null> {
  return env.DB.prepare("SELECT * FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2")
    .bind(uuid, destinationId)
    .first<DeliveryRowView>();
}

export async function attemptRows(uuid: string, destinationId: string) {
  const { results } = await env.DB.prepare(
    "SELECT attempt, status, outcome, error, latency_ms FROM delivery_attempts WHERE event_uuid = ?1 AND destination_id = ?2 ORDER BY attempt",
  )
    .bind(uuid, destinationId)
    .all<{ attempt: number; status: number | null; outcome: string; error: string | null; latency_ms: number }>();
  return results;
}

export function message<T>(body: T, attempts = 1) {
  return { id: crypto.randomUUID(), timestamp: new Date(), attempts, body };
}

/** What `exports.default.queue()` answers (needs the service_binding_extra_handlers flag): it reports delays. */
export interface QueueHandlerResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: Array<{ msgId: string; delaySeconds?: number }>;
}

/** Run the real Worker's queue handler (its own env and bindings) on these messages. */
export async function runWorkerQueue(queueName: string, messages: Array<ReturnType<typeof message>>): Promise<QueueHandlerResult> {
  const handler = (workerExports as unknown as { default: { queue(q: string, m: unknown[]): Promise<QueueHandlerResult> } }).default;
  return handler.queue(queueName, messages);
}

export async function clearForwarding() {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM forward_outbox"),
    env.DB.prepare("DELETE FROM batch_deliveries"),
    env.DB.prepare("DELETE FROM delivery_attempts"),
    env.DB.prepare("DELETE FROM deliveries"),
    env.DB.prepare("DELETE FROM dead_letters"),
    env.DB.prepare("DELETE FROM destinations"),
  ]);
}

/** Store one event (queue send recorded, not consumed) and return its uuid. */
export async function storeEvent(fixture: "user.session.start" | "user.lifecycle.create" = "user.session.start", change: Record<string, unknown> = {}) {
  const { envelope, uuids } = oktaDelivery(fixture, [change]);
  const res = await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }));
  expect(res.status).toBe(204);
  return uuids[0]!;
}

/** Run the consumer on one batch with recording queues; answer its ack/retry result and what it enqueued. */
export async function consume(
  queueName: string,
  bodies: Array<ForwardMessage | DeadLetterMessage>,
  overrides: { deadLetterQueueFails?: boolean; env?: Partial<Env> } = {},
) {
  const forward = recordingQueue<ForwardMessage>();
  const dead = recordingQueue<DeadLetterMessage>({ fail: overrides.deadLetterQueueFails });
  const batch = createMessageBatch(queueName, bodies.map((b) => message(b)));
  const ctx = createExecutionContext();
  await worker.queue(batch, envWith({ FORWARD_QUEUE: forward, DEAD_LETTER_QUEUE: dead, ...overrides.env }), ctx);
  const result = await getQueueResult(batch, ctx);
  return { result, batch, forwarded: forward.sent, forwardedDelays: forward.delays, deadLettered: dead.sent };
}

/** The batch (one Okta delivery) a stored event arrived in. */
export async function batchOf(uuid: string): Promise<number> {
  const row = await env.DB.prepare("SELECT batch_id FROM events WHERE uuid = ?1").bind(uuid).first<{ batch_id: number }>();
  if (!row) throw new Error(`event ${uuid} is not stored`);
  return row.batch_id;
}

/**
 * Fan the batch of a stored event out (first attempts included: stub fetch first) and answer the delivery messages
 * it produced (retries of failed first attempts).
 */
export async function fanOut(uuid: string, overrides: Parameters<typeof consume>[2] = {}) {
  const { result, batch, forwarded } = await consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds: [await batchOf(uuid)] }], overrides);
  expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
  return forwarded;
}

/**
 * Give a stored event a 'pending' delivery (due now, never attempted) to every destination, or 'waiting' to one
 * that is not active — as a resume or the sweeper leaves them — so a {kind:"delivery"} message exercises the retry
 * path on its own.
 */
export async function openDeliveries(uuid: string): Promise<void> {
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at)
     SELECT ?1, id, CASE WHEN state = 'active' THEN 'pending' ELSE 'waiting' END, 0, ?2, ?2, ?2 FROM destinations WHERE true
     ON CONFLICT DO NOTHING`,
  )
    .bind(uuid, now)
    .run();
}

/** The events a destination received on their first attempt, by batch: [event id, status, latency, at] each. */
export async function firstAttemptDeliveries(destinationId: string) {
  const { results } = await env.DB.prepare("SELECT batch_id, delivered FROM batch_deliveries WHERE destination_id = ?1 ORDER BY batch_id")
    .bind(destinationId)
    .all<{ batch_id: number; delivered: string }>();
  return results.map((r) => ({ batchId: r.batch_id, delivered: JSON.parse(r.delivered) as Array<[number, number, number, number]> }));
}

/** A stored event as the gateway reads it back (payload decoded). */
export async function storedEvent(uuid: string) {
  const { getEvent } = await import("../../src/storage/events");
  return getEvent(env.DB, uuid);
}

export async function attempt(uuid: string, destinationId: string, overrides: Parameters<typeof consume>[2] = {}) {
  return consume(FORWARD_QUEUE_NAME, [{ kind: "delivery", uuid, destinationId }], overrides);
}

/** A secret column of a stored destination, opened with the test key (throws with the reason when it does not open). */
export async function openStoredSecret(id: string, column: SecretColumn): Promise<string | null> {
  const row = await env.DB.prepare(`SELECT ${column} AS sealed FROM destinations WHERE id = ?1`).bind(id).first<{ sealed: string | null }>();
  if (!row || row.sealed === null) return null;
  const keyring = await loadKeyring(parseSecretKeys(TEST_SECRETS_ENCRYPTION_KEY, []))!;
  const opened = await openDestinationSecret(keyring, column, id, row.sealed);
  if (!opened.ok) throw new Error(`${column} of ${id} does not open: ${opened.reason}`);
  return opened.value;
}
