/**
 * Queue message schemas. Messages carry ids only, never event bodies: the event lives in D1 (a Queues message is
 * limited to 128 KB, an Okta event can be larger, and a body in a queue is one more place a secret could leak).
 */
import * as z from "zod";

/** "Forward this stored event": produced by POST /hooks/events and by the outbox sweeper. */
export const forwardEventMessage = z.object({
  kind: z.literal("event"),
  uuid: z.string().min(1),
});
export type ForwardEventMessage = z.infer<typeof forwardEventMessage>;

export const forwardMessage = z.discriminatedUnion("kind", [forwardEventMessage]);
export type ForwardMessage = z.infer<typeof forwardMessage>;

/** What reaches the dead-letter queue: the forward message whose retries ran out. */
export type DeadLetterMessage = ForwardMessage;
