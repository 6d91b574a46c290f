/**
 * Ingesting one Okta event hook delivery: store every event once (one D1 round trip, src/storage/events.ts), then
 * hand the new ones to the forward queue. The answer to Okta follows from what happened here:
 * - stored → 204, even when the queue refused the events (they are safe in D1 as 'pending'; the sweeper
 *   enqueues them), so Okta does not resend what is already kept;
 * - an event too large for a D1 row → payload_too_large (413: a retry could never succeed), nothing stored;
 * - D1 failed → storage_unavailable (503: Okta retries once, and the retry may succeed).
 */
import type { Config } from "../config";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { describeError } from "../log";
import { incomingEvent, parseDeliverySource, type EventHookDelivery } from "../okta/event-hook";
import { enqueueStoredEvents } from "../queue/enqueue";
import { EventTooLargeError, storeEvents } from "../storage/events";

export interface IngestDeps {
  env: Env;
  config: Config;
  now: number;
  /** Where the 'enqueued' mark goes: the event route hands it to waitUntil so Okta's answer does not wait for it. */
  whenMarked: (marking: Promise<void>) => void | Promise<void>;
}

export interface IngestResult {
  envelopeEventId: string | null;
  eventHookId: string | null;
  events: number;
  stored: number;
  duplicates: number;
  /** Stored but never forwarded (IGNORE_ACTOR_IDS). */
  skipped: number;
  enqueued: number;
  /** Why the queue refused (some of) the events; they stay 'pending' for the sweeper. */
  enqueueError?: string;
}

/** `texts[i]` is Okta's exact text of `delivery.data.events[i]` (src/okta/event-spans.ts). */
export async function ingestDelivery(deps: IngestDeps, delivery: EventHookDelivery, texts: readonly string[]): Promise<IngestResult> {
  const events = delivery.data.events.map((event, i) => incomingEvent(event, texts[i]!));
  const source = parseDeliverySource(delivery.source);
  const envelopeEventId = delivery.eventId ?? null;
  let stored;
  try {
    stored = await storeEvents(deps.env.DB, events, {
      ...source,
      envelopeEventId,
      receivedAt: deps.now,
      ignoreActorIds: deps.config.ignoreActorIds,
    });
  } catch (error) {
    if (error instanceof EventTooLargeError) {
      // Retrying could never succeed; refuse it whole (nothing was written) and say which event.
      throw new ApiError("payload_too_large", `${error.message}; no event of this delivery was stored.`);
    }
    throw new IngestStorageError(error);
  }
  const { sent, error } = await enqueueStoredEvents(deps.env, stored.toForward, Date.now(), deps.whenMarked);
  return {
    envelopeEventId,
    eventHookId: source.eventHookId,
    events: events.length,
    stored: stored.inserted.length,
    duplicates: stored.duplicates,
    skipped: stored.inserted.length - stored.toForward.length,
    enqueued: sent.length,
    ...(error !== undefined && { enqueueError: describeError(error) }),
  };
}

/** D1 failed while storing: storage_unavailable (503) to Okta, with D1's reason for the log line. */
export class IngestStorageError extends ApiError {
  readonly storageError: string;
  constructor(cause: unknown) {
    super("storage_unavailable", "The events could not be stored; Okta will retry this delivery.");
    this.storageError = describeError(cause);
  }
}
