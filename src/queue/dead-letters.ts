/**
 * The dead-letter consumer: records every delivery that will not be retried automatically in `dead_letters`.
 * Two kinds of message arrive: our own {kind:"dead"} (the forward consumer gave up: permanent failure or retries
 * exhausted), and forward messages the platform moved here after Queues' own retries ran out (the consumer kept
 * failing on them, e.g. D1 was down for hours) — those are recorded too, so nothing disappears silently.
 */
import type { Env } from "../env";
import { log } from "../log";
import { markDeadWithLetter, recordDeadLetter } from "../storage/deliveries";
import type { DeadLetterMessage } from "./messages";

export async function recordDeadLetterMessage(env: Env, message: DeadLetterMessage, attempts: number, now: number): Promise<void> {
  switch (message.kind) {
    case "dead":
      await recordDeadLetter(env.DB, { eventUuid: message.uuid, destinationId: message.destinationId, reason: message.reason, attempts: message.attempts }, now);
      return;
    case "delivery": {
      const reason = `queue retries exhausted after ${attempts} deliveries of the message`;
      // Unless the delivery was delivered after all (then neither changes).
      await markDeadWithLetter(env.DB, { eventUuid: message.uuid, destinationId: message.destinationId, reason, attempts }, now);
      log("error", "delivery dead-lettered by the platform", { eventUuid: message.uuid, destinationId: message.destinationId });
      return;
    }
    case "resume":
      // Nothing to record: the deliveries are still waiting (or pending), and every sweep resumes them again.
      log("error", "resume step dead-lettered by the platform; the next sweep resumes", { destinationId: message.destinationId ?? undefined });
      return;
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
