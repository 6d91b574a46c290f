/**
 * The dead-letter consumer: records every delivery that will not be retried automatically in `dead_letters`.
 * Two kinds of message arrive: our own {kind:"dead"} (the forward consumer gave up: permanent failure or retries
 * exhausted), and forward messages the platform moved here after Queues' own retries ran out (the consumer kept
 * failing on them, e.g. D1 was down for hours) — those are recorded too, so nothing disappears silently.
 */
import type { Env } from "../env";
import { log } from "../log";
import { markDead, recordDeadLetter } from "../storage/deliveries";
import type { DeadLetterMessage } from "./messages";

export async function recordDeadLetterMessage(env: Env, message: DeadLetterMessage, attempts: number, now: number): Promise<void> {
  switch (message.kind) {
    case "dead":
      await recordDeadLetter(env.DB, { eventUuid: message.uuid, destinationId: message.destinationId, reason: message.reason, attempts: message.attempts }, now);
      return;
    case "delivery": {
      const reason = `queue retries exhausted after ${attempts} deliveries of the message`;
      const key = { eventUuid: message.uuid, destinationId: message.destinationId };
      await markDead(env.DB, key, reason, now);
      await recordDeadLetter(env.DB, { ...key, reason, attempts }, now);
      log("error", "delivery dead-lettered by the platform", { eventUuid: message.uuid, destinationId: message.destinationId });
      return;
    }
    case "event":
      await recordDeadLetter(
        env.DB,
        { eventUuid: message.uuid, destinationId: "", reason: `fan-out failed; queue retries exhausted after ${attempts} deliveries`, attempts },
        now,
      );
      log("error", "event fan-out dead-lettered by the platform", { eventUuid: message.uuid });
      return;
  }
}
