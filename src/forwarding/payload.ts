/**
 * The HTTP request a destination receives, in its format (docs/forwarding.md):
 *
 * - `standard`: Standard Webhooks. Body `{"type": <eventType>, "timestamp": <published>, "data": <the LogEvent as
 *   Okta sent it>}`, headers `webhook-id` (stable across retries), `webhook-timestamp` (this attempt, seconds),
 *   `webhook-signature` (one `v1,` signature per active secret).
 * - `okta`: the event re-wrapped in Okta's own event hook envelope
 * (https://developer.okta.com/docs/concepts/event-hooks/: eventType com.okta.event_hook,
 *   cloudEventsVersion 0.1, source, eventId, eventTime, contentType, data.events[]) with the configured auth header,
 *   so an existing Okta event hook receiver can sit behind the gateway unchanged. `eventId` and the
 *   `idempotency-key` header are stable across retries; the Standard Webhooks headers are sent too (harmless to a
 *   receiver that ignores them, useful to one that checks them).
 *
 * A replay (docs/forwarding.md "Replay") carries its own `webhook-id` (so `eventId` and `idempotency-key` differ
 * too: a receiver that de-duplicates processes it) and REPLAY_OF_HEADER naming the original message's id.
 *
 * The event payload is spliced in as stored, never re-serialised, so the receiver sees Okta's bytes.
 */
import { EVENT_HOOK_ENVELOPE_TYPE } from "../okta/event-hook";
import { activeSecrets, deliveryMessageId, signatureHeader, type SigningSecrets } from "./signing";

/** How a destination receives events: Standard Webhooks, or Okta's own event hook envelope. */
export type PayloadFormat = "standard" | "okta";

export const USER_AGENT = "okta-hooks-edge";
/** Sent with a replayed event: the `webhook-id` of the original message (its first delivery and retries). */
export const REPLAY_OF_HEADER = "okta-hooks-edge-replay-of";

export interface EventForDelivery {
  uuid: string;
  eventType: string;
  published: string;
  oktaOrg: string | null;
  eventHookId: string | null;
  /** The LogEvent JSON text as stored. */
  payload: string;
}

export interface DestinationForDelivery {
  id: string;
  format: PayloadFormat;
  secrets: SigningSecrets;
  oktaAuthHeader: string | null;
  oktaAuthValue: string | null;
}

export interface OutgoingRequest {
  body: string;
  headers: Record<string, string>;
  webhookId: string;
}

/** A UUID-shaped id from the 32 hex digits of a message id (Okta's envelope eventId is a UUID). */
function uuidShape(messageId: string): string {
  const hex = messageId.replace(/^msg_/, "");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function oktaSource(event: EventForDelivery): string {
  if (event.oktaOrg && event.eventHookId) return `https://${event.oktaOrg}/api/v1/eventHooks/${event.eventHookId}`;
  return event.oktaOrg ? `https://${event.oktaOrg}` : USER_AGENT;
}

export function buildBody(format: PayloadFormat, event: EventForDelivery, webhookId: string, now: number): string {
  if (format === "standard") {
    return `{"type":${JSON.stringify(event.eventType)},"timestamp":${JSON.stringify(event.published)},"data":${event.payload}}`;
  }
  return (
    `{"eventType":${JSON.stringify(EVENT_HOOK_ENVELOPE_TYPE)},"eventTypeVersion":"1.0","cloudEventsVersion":"0.1",` +
    `"source":${JSON.stringify(oktaSource(event))},"eventId":${JSON.stringify(uuidShape(webhookId))},` +
    `"data":{"events":[${event.payload}]},"eventTime":${JSON.stringify(new Date(now).toISOString())},` +
    `"contentType":"application/json"}`
  );
}

/** Body and headers of one attempt at `now` (epoch ms); `replayWebhookId` when the attempt belongs to a replay. */
export async function buildDeliveryRequest(
  event: EventForDelivery,
  destination: DestinationForDelivery,
  now: number,
  replayWebhookId: string | null = null,
): Promise<OutgoingRequest> {
  const originalId = await deliveryMessageId(event.uuid, destination.id);
  const webhookId = replayWebhookId ?? originalId;
  const timestamp = Math.floor(now / 1000);
  const body = buildBody(destination.format, event, webhookId, now);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": webhookId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureHeader(activeSecrets(destination.secrets, now), webhookId, timestamp, body),
  };
  if (replayWebhookId !== null) headers[REPLAY_OF_HEADER] = originalId;
  if (destination.format === "okta") {
    headers["idempotency-key"] = uuidShape(webhookId);
    if (destination.oktaAuthHeader && destination.oktaAuthValue !== null) {
      headers[destination.oktaAuthHeader] = destination.oktaAuthValue;
    }
  }
  return { body, headers, webhookId };
}
