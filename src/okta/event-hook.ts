/**
 * Okta event hook payloads (https://developer.okta.com/docs/concepts/event-hooks/): the delivery envelope and the System Log LogEvent inside it.
 *
 * Schemas are loose: Okta adds fields (`insertionTimestamp`, `client.ipChain`, …) and sends null for many of the
 * ones it documents, so every field we don't need is passed through untouched and every field we read is
 * nullable. What we require is what storage needs: `data.events` as an array, and on each event a `uuid` (the
 * idempotency key) and an `eventType` (what routing filters on).
 *
 * Pure domain code: no Hono, no D1.
 */
import * as z from "zod";

/** Envelope `eventType` of every event hook delivery. */
export const EVENT_HOOK_ENVELOPE_TYPE = "com.okta.event_hook";

const nullableString = z.string().nullish();

/**
 * The event's `uuid` is its key in storage, in queue messages and in every delivery id, so it must be a short,
 * plain identifier: Okta sends UUIDs. A string with a lone UTF-16 surrogate (`"x\ud800"` is valid JSON) cannot be
 * stored as UTF-8 and read back the same, which once left such rows unforwardable; the character set rules it out.
 */
const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** True when `uuid` is an identifier the gateway can key storage, messages and deliveries on. */
export function isValidEventId(uuid: string): boolean {
  return EVENT_ID.test(uuid);
}
/** Okta's event types are dotted lower-case names with digits and underscores (one has capitals). */
const EVENT_TYPE = /^[A-Za-z0-9._-]{1,200}$/;

export const logEventSchema = z.looseObject({
  uuid: z.string().regex(EVENT_ID, "must be 1-128 characters of A-Z a-z 0-9 . _ : -"),
  eventType: z.string().regex(EVENT_TYPE, "must be 1-200 characters of A-Z a-z 0-9 . _ -"),
  published: nullableString,
  severity: nullableString,
  displayMessage: nullableString,
  actor: z.looseObject({ id: nullableString, alternateId: nullableString, type: nullableString }).nullish(),
  outcome: z.looseObject({ result: nullableString, reason: nullableString }).nullish(),
  target: z.array(z.looseObject({ id: nullableString, type: nullableString }).nullable()).nullish(),
});
export type LogEvent = z.infer<typeof logEventSchema>;

export const eventHookDeliverySchema = z.looseObject({
  eventType: z
    .literal(EVENT_HOOK_ENVELOPE_TYPE, { error: `must be "${EVENT_HOOK_ENVELOPE_TYPE}"` })
    .optional(),
  eventId: nullableString,
  eventTime: nullableString,
  source: nullableString,
  data: z.looseObject({
    events: z.array(logEventSchema, { error: "must be an array of events" }),
  }),
});
export type EventHookDelivery = z.infer<typeof eventHookDeliverySchema>;

/** Where a delivery came from, read from `source` = https://{org}/api/v1/eventHooks/{hookId}. */
export interface DeliverySource {
  oktaOrg: string | null;
  eventHookId: string | null;
}

export function parseDeliverySource(source: string | null | undefined): DeliverySource {
  if (!source) return { oktaOrg: null, eventHookId: null };
  const hook = /\/api\/v1\/eventHooks\/([^/?#]+)/.exec(source);
  let oktaOrg: string | null = null;
  try {
    const url = new URL(source);
    oktaOrg = url.host || null;
  } catch {
    // Okta's own doc samples hold "https://{yourOktaDomain}/…", which is not a URL; keep the host part as written.
    oktaOrg = /^[a-z]+:\/\/([^/]+)/i.exec(source)?.[1] ?? null;
  }
  return { oktaOrg, eventHookId: hook?.[1] ?? null };
}

/**
 * A LogEvent `published` time as epoch milliseconds, so stored times sort and compare as numbers. Okta sends
 * ISO-8601 with milliseconds; anything unparseable is stored as NULL (the payload still holds it as sent).
 */
export function publishedMs(published: string | null | undefined): number | null {
  if (!published) return null;
  const t = Date.parse(published);
  return Number.isNaN(t) ? null : t;
}

/** Lone UTF-16 surrogates replaced by U+FFFD, so a text column holds what it was given when read back. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

/** What storage keeps of one event: the columns it is searched by, and Okta's exact text of it. */
export interface IncomingEvent {
  uuid: string;
  eventType: string;
  /** Epoch ms (see publishedMs). */
  published: number | null;
  actorId: string | null;
  actorAlternateId: string | null;
  outcomeResult: string | null;
  severity: string | null;
  /** The event exactly as it appears in the body Okta sent (see ./event-spans.ts). */
  text: string;
}

const column = (value: string | null | undefined): string | null => (value == null ? null : wellFormed(value));

export function incomingEvent(event: LogEvent, text: string): IncomingEvent {
  return {
    uuid: event.uuid,
    eventType: event.eventType,
    published: publishedMs(event.published),
    actorId: column(event.actor?.id),
    actorAlternateId: column(event.actor?.alternateId),
    outcomeResult: column(event.outcome?.result),
    severity: column(event.severity),
    text,
  };
}
