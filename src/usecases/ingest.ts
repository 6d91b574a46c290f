/**
 * Ingesting one Okta event hook delivery: store every event once, with the delivery's batch and outbox rows (one D1
 * round trip, src/storage/events.ts), then hand the stored batch to the isolate's producer buffer
 * (src/queue/enqueue-buffer.ts), which sends the batches of many requests as ONE forward queue message after the
 * request has answered (`deps.background`). The answer to Okta follows from what happened in D1 alone:
 * - stored → 204, before the batch is on the queue and whether or not the queue takes it (the batch is safe in the
 *   outbox: a failed send marks it "not enqueued" and the sweeper enqueues it), so Okta does not resend what is
 *   already kept and never waits on the queue;
 * - an event too large for a D1 row → payload_too_large (413: a retry could never succeed), nothing stored;
 * - D1 failed → storage_unavailable (503: Okta retries once, and the retry may succeed).
 *
 * Events no destination wants (by the isolate's routing copy, src/storage/routing-cache.ts) and events of
 * loop-guarded actors (IGNORE_ACTOR_IDS) are stored but cost no outbox row and no message.
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { describeError, log } from "../log";
import { incomingEvent, parseDeliverySource, type EventHookDelivery } from "../okta/event-hook";
import { routesTo } from "../okta/routing";
import { bufferBatchIds } from "../queue/enqueue-buffer";
import { EventTooLargeError, FORWARD, storeDelivery, type ForwardFlag } from "../storage/events";
import { isStale, refreshRouting, routingSnapshot } from "../storage/routing-cache";

export interface IngestDeps {
  env: Env;
  config: Config;
  now: number;
  /** Work that may finish after Okta's answer (the route hands it to waitUntil). */
  background: (work: Promise<unknown>) => void;
}

export interface IngestResult {
  envelopeEventId: string | null;
  eventHookId: string | null;
  events: number;
  stored: number;
  duplicates: number;
  /** Stored but never forwarded (IGNORE_ACTOR_IDS). */
  skipped: number;
  /** Stored, and no destination wanted them when they arrived. */
  unrouted: number;
  /**
   * The batches stored in the outbox, to be enqueued by the isolate's buffer after the answer (one per delivery, but
   * for one larger than a batch; none when nothing is to be forwarded or nothing new was stored).
   */
  outboxBatches: number[];
}

/** `texts[i]` is Okta's exact text of `delivery.data.events[i]` (src/okta/event-spans.ts). */
export async function ingestDelivery(deps: IngestDeps, delivery: EventHookDelivery, texts: readonly string[]): Promise<IngestResult> {
  const { env, config, now } = deps;
  const events = delivery.data.events.map((event, i) => incomingEvent(event, texts[i]!));
  const source = parseDeliverySource(delivery.source);
  const envelopeEventId = delivery.eventId ?? null;
  const routing = routingSnapshot(env.DB, now);
  const forward: ForwardFlag[] = delivery.data.events.map((event) => {
    const actorId = event.actor?.id;
    if (actorId != null && config.ignoreActorIds.has(actorId)) return FORWARD.skip;
    if (!routing) return FORWARD.yes;
    return routing.filters.some((filter) => routesTo(event, filter)) ? FORWARD.yes : FORWARD.unrouted;
  });
  let stored;
  try {
    stored = await storeDelivery(env.DB, events, {
      ...source,
      envelopeEventId,
      receivedAt: now,
      forward,
      routingVersion: routing?.version ?? null,
    });
  } catch (error) {
    if (error instanceof EventTooLargeError) {
      // Retrying could never succeed; refuse it whole (nothing was written) and say which event.
      throw new ApiError("payload_too_large", `${error.message}; no event of this delivery was stored.`);
    }
    throw new IngestStorageError(error);
  }
  if (isStale(env.DB, stored.destinationsVersion)) {
    deps.background(refreshRouting(env.DB, Date.now()).catch((err: unknown) => log("warn", "routing refresh failed", { error: describeError(err) })));
  }
  const insertedFlags = countFlags(delivery, forward, new Set(stored.inserted));
  if (stored.outboxBatchIds.length > 0) {
    // The flush logs its own failure and never rejects (the batches then wait for the sweeper).
    deps.background(bufferBatchIds(env.FORWARD_QUEUE, env.DB, stored.outboxBatchIds, config.forwarding.enqueueWindowMs));
  }
  return {
    envelopeEventId,
    eventHookId: source.eventHookId,
    events: events.length,
    stored: stored.inserted.length,
    duplicates: stored.duplicates,
    skipped: insertedFlags.skipped,
    unrouted: insertedFlags.unrouted,
    outboxBatches: stored.outboxBatchIds,
  };
}

/** Of the events this call stored (first copy of each uuid), how many were loop-guarded and how many unrouted. */
function countFlags(delivery: EventHookDelivery, forward: readonly ForwardFlag[], inserted: ReadonlySet<string>) {
  let skipped = 0;
  let unrouted = 0;
  const seen = new Set<string>();
  delivery.data.events.forEach((event, i) => {
    if (!inserted.has(event.uuid) || seen.has(event.uuid)) return;
    seen.add(event.uuid);
    if (forward[i] === FORWARD.skip) skipped++;
    else if (forward[i] === FORWARD.unrouted) unrouted++;
  });
  return { skipped, unrouted };
}

/** D1 failed while storing: storage_unavailable (503) to Okta, with D1's reason for the log line. */
export class IngestStorageError extends ApiError {
  readonly storageError: string;
  constructor(cause: unknown) {
    super("storage_unavailable", "The events could not be stored; Okta will retry this delivery.");
    this.storageError = describeError(cause);
  }
}
