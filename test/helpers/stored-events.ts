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
  const { results } = await env.DB.prepare("SELECT event_type, count FROM event_counts WHERE hour = ?1")
    .bind(hour)
    .all<{ event_type: string; count: number }>();
  return Object.fromEntries(results.map((r) => [r.event_type, r.count]));
}
