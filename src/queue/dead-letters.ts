/**
 * The dead-letter consumer: records the forward messages the platform moved to the dead-letter queue after Queues'
 * own retries ran out (the consumer kept failing on them, e.g. D1 was down for hours), so nothing disappears
 * silently. Deliveries the forward consumer gives up on are not sent here: their dead letter is written in the
 * same transaction as their last attempt (src/storage/deliveries.ts recordAttempt).
 */
import type { Env } from "../env";
import { log } from "../log";
import { markDeadWithLetter, recordDeadLetter } from "../storage/deliveries";
import type { DeadLetterMessage } from "./messages";

export async function recordDeadLetterMessage(env: Env, message: DeadLetterMessage, attempts: number, now: number): Promise<void> {
  switch (message.kind) {
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
    case "batches":
      // As for "batch", for each of them: one line per batch, so a search for a batch id finds it.
      for (const batchId of message.batchIds) {
        log("error", "batch fan-out dead-lettered by the platform; it stays in the outbox for the sweeper", { batchId });
      }
      return;
    case "batch":
      // Nothing is lost: the batch is still in the outbox, and the sweeper enqueues it again.
      log("error", "batch fan-out dead-lettered by the platform; it stays in the outbox for the sweeper", { batchId: message.batchId });
      return;
    case "alert":
      // Nothing to record: the alert is still due in D1, and the alert cron sends it again (src/jobs/alerts.ts).
      log("error", "alert dead-lettered by the platform; the alert cron sends it again", { alertId: message.alertId });
      return;
    case "replay":
      // Nothing is lost: the job keeps its place, and the job sweep sends its step again.
      log("error", "replay step dead-lettered by the platform; the job sweep sends it again", { jobId: message.jobId, step: message.step });
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
