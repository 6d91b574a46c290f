/**
 * Okta event hooks (https://developer.okta.com/docs/concepts/event-hooks/).
 *
 * GET  /hooks/events — the one-time verification: echo `x-okta-verification-challenge` as
 *                      {"verification":"<value>"} (200, application/json), after the same auth as deliveries
 *                      (Okta sends the configured auth header on the GET too).
 * POST /hooks/events — a delivery: authenticate, validate, store every event once (one D1 round trip), answer 204
 *                      with an empty body; the delivery's batch goes to the forward queue after the answer, with
 *                      the batches of the other requests the isolate serves meanwhile (src/queue/enqueue-buffer.ts).
 *
 * Okta retries once on timeout or 5xx and never on 4xx (see the event hooks page above), so: bad input → 4xx (a
 * retry would not help); a storage failure → 503 (the retry may succeed); the queue is never in the answer's path:
 * once stored, the events are safe in D1 and their batch is in the outbox, which the sweeper enqueues if the
 * buffer's send fails. The route parses and validates; src/usecases/ingest.ts stores and hands the batch on.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors";
import { EVENT_HOOK_ENVELOPE_TYPE, eventHookDeliverySchema } from "../../okta/event-hook";
import { eventTexts } from "../../okta/event-spans";
import { ingestDelivery, IngestStorageError } from "../../usecases/ingest";
import { describeFirstIssue } from "../../validation";
import { readJsonText } from "../json-body";
import { requireSharedSecret } from "../header-secret";
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
  const fields = c.var.logFields;
  let result;
  try {
    result = await ingestDelivery(
      {
        env: c.env,
        config,
        now: Date.now(),
        background: (work) => c.executionCtx.waitUntil(work),
      },
      delivery,
      texts,
    );
  } catch (error) {
    if (error instanceof IngestStorageError) fields.storageError = error.storageError;
    throw error;
  }
  fields.envelopeEventId = result.envelopeEventId ?? undefined;
  fields.eventHookId = result.eventHookId ?? undefined;
  fields.events = result.events;
  fields.stored = result.stored;
  fields.duplicates = result.duplicates;
  fields.skipped = result.skipped;
  fields.unrouted = result.unrouted;
  // The stored outbox batches, to be enqueued (the buffer's flush logs its own failure).
  if (result.outboxBatches.length === 1) fields.batchId = result.outboxBatches[0];
  else if (result.outboxBatches.length > 1) fields.batchIds = result.outboxBatches.join(",");
  return c.body(null, 204);
});

eventHookRoutes.all("/", (c) => {
  throw new ApiError("method_not_allowed", `${c.req.method} is not supported here: Okta verifies with GET and delivers with POST.`, {
    allow: "GET, HEAD, POST",
  });
});
