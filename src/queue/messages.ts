/**
 * Queue message schemas. Messages carry ids only, never event bodies: the event lives in D1 (a Queues message is
 * limited to 128 KB, an Okta event can be larger, and a body in a queue is one more place a secret could leak).
 *
 * Forward queue:     {kind:"batches"}  fan stored batches (one per Okta delivery, up to 100 a message) out to their
 *                                      destinations and make every first attempt (POST /hooks/events through the
 *                                      isolate's buffer, src/queue/enqueue-buffer.ts; the sweeper);
 *                    {kind:"batch"}    one stored batch: what POST /hooks/events and the sweeper sent before
 *                                      "batches"; still accepted for the messages in flight when that deployed;
 *                    {kind:"delivery"} retry one (event, destination) delivery (after a failed attempt, resume,
 *                                      sweeper);
 *                    {kind:"event"}    from before batches: nothing to do (the migration put those events in the
 *                                      outbox, which the sweeper enqueues as batches); acknowledged;
 *                    {kind:"resume"}   move the next page of waiting deliveries of active destinations back to
 *                                      work (a resumed destination with a large backlog drains at queue speed);
 *                    {kind:"replay"}   run the next step of a replay or redrive job (src/queue/replay.ts): one page
 *                                      of its selection back to work, then the next step, delayed to keep its rate;
 *                    {kind:"alert"}    send one raised `gateway.alert` to the alert destination, or retry it
 *                                      (src/queue/alert-delivery.ts).
 * Dead-letter queue: only what the platform moves there: a forward message whose processing failed through all of
 *                    Queues' own retries (max_retries in wrangler.toml). A delivery the consumer gives up on
 *                    (permanent failure, retries exhausted) is dead-lettered in D1, in the transaction that records
 *                    its last attempt, and sends nothing here: one writer per fact.
 */
import * as z from "zod";

/** Batch ids per "batches" message, at most (one flush of the producer's buffer, one slice of the sweeper). */
export const MAX_BATCHES_PER_MESSAGE = 100;

/**
 * "Fan out these stored batches": produced by POST /hooks/events (gathered per isolate) and by the outbox sweeper.
 * A repeated id is fanned out once. ~10 bytes an id: 100 ids stay far below Queues' 128 KB per message.
 */
export const batchesMessage = z.object({
  kind: z.literal("batches"),
  batchIds: z
    .array(z.number().int().positive())
    .min(1)
    .max(MAX_BATCHES_PER_MESSAGE)
    .transform((ids) => [...new Set(ids)]),
});
export type BatchesMessage = z.infer<typeof batchesMessage>;

/** "Fan out this stored batch": from before "batches" (see above); no longer produced. */
export const batchMessage = z.object({
  kind: z.literal("batch"),
  batchId: z.number().int().positive(),
});
export type BatchMessage = z.infer<typeof batchMessage>;

/** From before batches (see above). */
export const forwardEventMessage = z.object({
  kind: z.literal("event"),
  uuid: z.string().min(1),
});
export type ForwardEventMessage = z.infer<typeof forwardEventMessage>;

/** "Attempt this delivery": one event to one destination. */
export const deliveryMessage = z.object({
  kind: z.literal("delivery"),
  uuid: z.string().min(1),
  destinationId: z.string().min(1),
});
export type DeliveryMessage = z.infer<typeof deliveryMessage>;

/** "Resume the next page of waiting deliveries": of one destination, or (null) of every active one. */
export const resumeMessage = z.object({
  kind: z.literal("resume"),
  destinationId: z.string().min(1).nullable(),
});
export type ResumeMessage = z.infer<typeof resumeMessage>;

/** "Run step `step` of replay job `jobId`": a message for any other step is stale (a duplicate) and dropped. */
export const replayMessage = z.object({
  kind: z.literal("replay"),
  jobId: z.number().int().positive(),
  step: z.number().int().nonnegative(),
});
export type ReplayMessage = z.infer<typeof replayMessage>;

/** "Send this alert": one row of `alerts`, to the destination it was raised for. */
export const alertMessage = z.object({
  kind: z.literal("alert"),
  alertId: z.number().int().positive(),
});
export type AlertMessage = z.infer<typeof alertMessage>;

export const forwardMessage = z.discriminatedUnion("kind", [
  batchesMessage,
  batchMessage,
  forwardEventMessage,
  deliveryMessage,
  resumeMessage,
  replayMessage,
  alertMessage,
]);
export type ForwardMessage = z.infer<typeof forwardMessage>;

/** What the dead-letter queue holds: forward messages the platform gave up on. */
export const deadLetterMessage = forwardMessage;
export type DeadLetterMessage = ForwardMessage;
