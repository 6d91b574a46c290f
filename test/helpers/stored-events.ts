/**
 * Storing Okta deliveries at a chosen time, for tests that need a controlled clock (stats buckets, retention ages):
 * the real storeDelivery (the ingest transaction, rollup included) with `receivedAt` set by the test instead of
 * the route's Date.now().
 */
import { env } from "cloudflare:workers";
import { incomingEvent, logEventSchema } from "../../src/okta/event-hook";
import { FORWARD, storeDelivery, type ForwardFlag, type StoreResult } from "../../src/storage/events";
import { logEvent } from "./okta";

export const DAY_MS = 86_400_000;

let serial = 0;

/** A LogEvent text with a fresh uuid (and optional changes), as Okta would send it. */
export function eventText(changes: Record<string, unknown> = {}): string {
  serial++;
  return JSON.stringify(logEvent(serial, { uuid: `stats-${crypto.randomUUID()}`, ...changes }));
}

export interface StoreAtOptions {
  /** What ingest decided per event: `skip` and `unrouted` (the default) put nothing in the outbox. */
  forward?: "skip" | "yes" | "unrouted";
  oktaOrg?: string;
}

/** Store one delivery of these event texts as if it arrived at `receivedAt`. */
export async function storeAt(receivedAt: number, texts: readonly string[], options: StoreAtOptions = {}): Promise<StoreResult> {
  const flag: ForwardFlag = FORWARD[options.forward ?? "unrouted"];
  const version = await env.DB.prepare("SELECT value FROM gateway_meta WHERE key = 'destinations_version'").first<{ value: number }>();
  return storeDelivery(
    env.DB,
    texts.map((text) => incomingEvent(logEventSchema.parse(JSON.parse(text)), text)),
    {
      oktaOrg: options.oktaOrg ?? "acme.okta.com",
      eventHookId: "whoTestHook0000000",
      envelopeEventId: crypto.randomUUID(),
      receivedAt,
      forward: texts.map(() => flag),
      routingVersion: version?.value ?? null,
    },
  );
}

/** The rollup's rows for one hour, by type. */
export async function countsAt(hour: number): Promise<Record<string, number>> {
  const row = await env.DB.prepare("SELECT counts FROM event_counts WHERE hour = ?1").bind(hour).first<{ counts: string }>();
  return row ? (JSON.parse(row.counts) as Record<string, number>) : {};
}

/** Empty every table of the event store, forwarding history and the rollup (storage is shared within a test file). */
export async function clearEventStore(): Promise<void> {
  await env.DB.batch(
    [
      "events",
      "event_batches",
      "batch_types",
      "batch_failures",
      "event_payloads",
      "forward_outbox",
      "batch_deliveries",
      "deliveries",
      "delivery_attempts",
      "dead_letters",
      "event_counts",
    ].map((table) => env.DB.prepare(`DELETE FROM ${table}`)),
  );
}

/** Row counts of the tables retention purges. */
export async function tableCounts(): Promise<Record<string, number>> {
  const tables = [
    "events",
    "event_batches",
    "batch_types",
    "batch_failures",
    "event_payloads",
    "batch_deliveries",
    "deliveries",
    "delivery_attempts",
    "dead_letters",
    "event_counts",
  ];
  const results = await env.DB.batch<{ n: number }>(tables.map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${t}`)));
  return Object.fromEntries(tables.map((t, i) => [t, results[i]!.results[0]!.n]));
}

/** The ids and uuids of stored events, oldest first. */
export async function storedIds(): Promise<Array<{ id: number; uuid: string; batch_id: number | null }>> {
  const { results } = await env.DB.prepare("SELECT id, uuid, batch_id FROM events ORDER BY id").all<{ id: number; uuid: string; batch_id: number | null }>();
  return results;
}

/** Give an event a `deliveries` row in `state` (and one attempt row), as the forwarding code leaves them. */
export async function giveDelivery(uuid: string, destinationId: string, state: "pending" | "failed" | "waiting" | "delivered" | "dead", at: number) {
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO deliveries (event_uuid, destination_id, state, attempts, next_attempt_at, created_at, updated_at, delivered_at)
       VALUES (?1, ?2, ?3, 1, ?4, ?4, ?4, CASE WHEN ?3 = 'delivered' THEN ?4 END)`,
    ).bind(uuid, destinationId, state, at),
    env.DB.prepare(
      `INSERT INTO delivery_attempts (event_uuid, destination_id, attempt, attempted_at, status, latency_ms, outcome, error)
       VALUES (?1, ?2, 1, ?3, 500, 12, 'retry', 'HTTP 500')`,
    ).bind(uuid, destinationId, at),
  ]);
}

/** A first-attempt success record of a batch for one destination, as fan-out writes it. */
export async function giveBatchDelivery(batchId: number, destinationId: string, items: Array<[number, number, number, number]>, at: number) {
  await env.DB.prepare("INSERT INTO batch_deliveries (batch_id, destination_id, delivered, created_at) VALUES (?1, ?2, ?3, ?4)")
    .bind(batchId, destinationId, JSON.stringify(items), at)
    .run();
}
