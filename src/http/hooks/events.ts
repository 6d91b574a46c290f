/**
 * Okta event hooks (https://developer.okta.com/docs/concepts/event-hooks/).
 *
 * GET  /hooks/events — the one-time verification: echo `x-okta-verification-challenge` as
 *                      {"verification":"<value>"} (200, application/json), after the same auth as deliveries
 *                      (Okta sends the configured auth header on the GET too).
 * POST /hooks/events — a delivery: authenticate, validate, store every event once (one D1 round trip), enqueue
 *                      the new ones for forwarding, answer 204 with an empty body.
 *
 * Okta retries once on timeout or 5xx and never on 4xx (see the event hooks page above), so: bad input → 4xx (a retry
 * would not
 * help); a storage failure → 503 (the retry may succeed); a queue failure after storing → still 204, because the
 * events are safe in D1 with forward_state 'pending' and the outbox sweeper enqueues them later.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors";
import { describeError, log } from "../../log";
import { EVENT_HOOK_ENVELOPE_TYPE, eventHookDeliverySchema, incomingEvent, parseDeliverySource } from "../../okta/event-hook";
import { eventTexts } from "../../okta/event-spans";
import { enqueueStoredEvents } from "../../queue/enqueue";
import { EventTooLargeError, storeEvents } from "../../storage/events";
import { describeFirstIssue } from "../../validation";
import { readJsonText } from "../json-body";
import { requireSharedSecret } from "../shared-secret";
import type { AppEnv } from "../types";

/** Header Okta puts the verification challenge in (case-insensitive; 2019 docs capitalised it). */
export const VERIFICATION_CHALLENGE_HEADER = "x-okta-verification-challenge";

export const eventHookRoutes = new Hono<AppEnv>();

eventHookRoutes.use(
  requireSharedSecret({ select: (config) => config.eventHook, secretsVariable: "EVENT_HOOK_SECRETS" }),
);

eventHookRoutes.get("/", (c) => {
  const challenge = c.req.header(VERIFICATION_CHALLENGE_HEADER);
  if (challenge === undefined || challenge === "") {
    throw new ApiError(
      "missing_challenge",
      `GET is Okta's one-time verification and needs the ${VERIFICATION_CHALLENGE_HEADER} header; deliveries are POST.`,
    );
  }
  c.var.logFields.verification = true;
  return c.json({ verification: challenge });
});

eventHookRoutes.post("/", async (c) => {
  const { config } = c.var;
  const { text, value: body } = await readJsonText(c.req.raw, config.maxBodyBytes);
  const parsed = eventHookDeliverySchema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError("invalid_body", `Not an Okta event hook delivery (${EVENT_HOOK_ENVELOPE_TYPE}): ${describeFirstIssue(parsed.error, body)}`);
  }
  const delivery = parsed.data;
  // Each event is stored and forwarded as the exact text Okta sent (numbers, escapes, key order and all), not as
  // a re-serialisation of the parsed value.
  const texts = eventTexts(text);
  if (texts === undefined || texts.length !== delivery.data.events.length) {
    // Cannot happen for a body the schema accepted; refusing is safer than storing the wrong bytes.
    throw new ApiError("invalid_body", "data.events: could not be read from the body as sent");
  }
  const rawEvents = delivery.data.events.map((event, i) => incomingEvent(event, texts[i]!));
  const source = parseDeliverySource(delivery.source);
  const now = Date.now();
  const fields = c.var.logFields;
  fields.envelopeEventId = delivery.eventId ?? undefined;
  fields.eventHookId = source.eventHookId ?? undefined;
  fields.events = rawEvents.length;

  let stored;
  try {
    stored = await storeEvents(c.env.DB, rawEvents, {
      ...source,
      envelopeEventId: delivery.eventId ?? null,
      receivedAt: now,
      ignoreActorIds: config.ignoreActorIds,
    });
  } catch (error) {
    if (error instanceof EventTooLargeError) {
      // Retrying could never succeed; refuse it whole (nothing was written) and say which event.
      throw new ApiError("payload_too_large", `${error.message}; no event of this delivery was stored.`);
    }
    fields.storageError = describeError(error);
    throw new ApiError("storage_unavailable", "The events could not be stored; Okta will retry this delivery.");
  }
  fields.stored = stored.inserted.length;
  fields.duplicates = stored.duplicates;
  fields.skipped = stored.inserted.length - stored.toForward.length;

  const { sent, error } = await enqueueStoredEvents(c.env, stored.toForward, Date.now(), (marking) =>
    c.executionCtx.waitUntil(
      marking.catch((err: unknown) =>
        // Harmless: the sweeper will enqueue these again and forwarding is idempotent per event and destination.
        log("warn", "mark enqueued failed", { requestId: c.var.requestId, error: describeError(err) }),
      ),
    ),
  );
  fields.enqueued = sent.length;
  if (error !== undefined) {
    // Nothing is lost: the unsent events stay 'pending' and the outbox sweeper enqueues them.
    fields.enqueueError = describeError(error);
    c.set("logLevel", "warn");
  }
  return c.body(null, 204);
});

eventHookRoutes.all("/", (c) => {
  throw new ApiError("method_not_allowed", `${c.req.method} is not supported here: Okta verifies with GET and delivers with POST.`, {
    allow: "GET, HEAD, POST",
  });
});
