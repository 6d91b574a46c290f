/**
 * Queue consumers: the forward queue (fan-out, delivery attempts, alerts) and its dead-letter queue.
 *
 * Every message is decided on its own: ack when done (delivered, dead and dead-lettered, waiting on a paused
 * destination, nothing to do), retry with a delay when it failed transiently. A message whose handling throws
 * (D1 or the queue failed) is retried with backoff; the batch handler itself never throws, so one bad message
 * never re-sends the others. Every promise is awaited before the handler returns. A {kind:"batches"} message is
 * acked once each of its batches is fanned out or not due, and retried when one of them failed
 * (./fan-out-batches.ts); batches it could not start in time, or past the invocation's allowance of fan-outs, go
 * out as a new message.
 *
 * Every message of the batch is handled at once, but their sends share MAX_CONCURRENT_SENDS connections: a Worker
 * has 6 simultaneous outbound connections and queues further fetches, and a delivery's timeout must measure the
 * destination, not our own queueing.
 */
import { getConfig } from "../config";
import type { Env } from "../env";
import { describeError, log } from "../log";
import { retryDelaySeconds } from "../forwarding/backoff";
import { markOutboxEnqueued } from "../storage/events";
import { deliverAlert } from "./alert-delivery";
import { recordDeadLetterMessage } from "./dead-letters";
import { enqueueBatches } from "./enqueue";
import { fanOutBatch } from "./fan-out";
import { fanOutBatches, invocationFanOuts, type FanOutAllowance } from "./fan-out-batches";
import { createLimit, type Limit } from "./limit";
import { forwardDelivery } from "./forward";
import { runReplayStep } from "./replay";
import { resumeStep } from "./resume";
import { deadLetterMessage, forwardMessage, type DeadLetterMessage, type ForwardMessage } from "./messages";

/** Workers' limit of simultaneous outbound connections per invocation: sends beyond it wait in src/queue/limit.ts. */
export const MAX_CONCURRENT_SENDS = 6;

/** Dead-letter queues are named `<queue>-dlq` (wrangler.toml). */
export function isDeadLetterQueue(queueName: string): boolean {
  return queueName.endsWith("-dlq");
}

function errorRetryDelay(message: Message<unknown>, baseSeconds: number): number {
  return retryDelaySeconds({ failedAttempts: message.attempts, baseSeconds, random: Math.random() });
}

async function handleForwardMessage(message: Message<unknown>, env: Env, limit: Limit, fanOuts: FanOutAllowance): Promise<void> {
  const { config } = getConfig(env);
  const parsed = forwardMessage.safeParse(message.body);
  if (!parsed.success) {
    // It can never succeed; retrying would only delay the dead-letter queue by 100 retries.
    log("error", "malformed forward message dropped", { id: message.id });
    message.ack();
    return;
  }
  const body = parsed.data;
  try {
    if (body.kind === "resume") {
      const step = await resumeStep(env, body.destinationId, Date.now());
      log("info", "resume", { destinationId: body.destinationId ?? undefined, resumed: step.resumed, more: step.more });
      message.ack();
      return;
    }
    if (body.kind === "batches") {
      const outcome = await fanOutBatches({ env, config, limit, allowance: fanOuts }, body.batchIds);
      if (outcome.failed.length > 0) {
        // The retry fans out what is still in the outbox; what this run fanned out is no longer due.
        throw new Error(`the fan-out of ${outcome.failed.length} of ${body.batchIds.length} batches failed (${outcome.failed.join(",")})`);
      }
      if (outcome.late.length > 0) {
        const { error } = await enqueueBatches(env.FORWARD_QUEUE, outcome.late);
        if (error !== undefined) throw error;
        // Best effort: without it the sweeper may send them once more after the grace, and the outbox lease makes
        // that second message a no-op.
        await markOutboxEnqueued(env.DB, outcome.late, Date.now()).catch((failure: unknown) =>
          log("warn", "late batches' enqueued time not refreshed", { batchIds: outcome.late.join(","), error: describeError(failure) }),
        );
        log("info", "fan-out of late batches handed to a new message", { batches: outcome.late.length, batchIds: outcome.late.join(",") });
      }
      message.ack();
      return;
    }
    if (body.kind === "batch") {
      // From before "batches" (messages in flight when it deployed).
      const result = await fanOutBatch({ env, config, limit }, body.batchId);
      log("info", "fan-out", { batchId: body.batchId, ...result });
      message.ack();
      return;
    }
    if (body.kind === "replay") {
      const step = await runReplayStep({ env, config }, body.jobId, body.step, Date.now());
      log("info", "replay step", { jobId: body.jobId, step: body.step, ...step });
      message.ack();
      return;
    }
    if (body.kind === "event") {
      log("info", "event message from before batches acknowledged; the outbox forwards its event", { eventUuid: body.uuid });
      message.ack();
      return;
    }
    const decision =
      body.kind === "alert"
        ? await deliverAlert({ env, config, limit }, body.alertId)
        : await forwardDelivery({ env, config, limit }, { eventUuid: body.uuid, destinationId: body.destinationId });
    if (decision.action === "ack") message.ack();
    else message.retry({ delaySeconds: decision.delaySeconds });
  } catch (error) {
    const delaySeconds = errorRetryDelay(message, config.forwarding.retryBaseSeconds);
    log("error", "forward message failed; retrying", {
      id: message.id,
      kind: body.kind,
      eventUuid: "uuid" in body ? body.uuid : undefined,
      batchId: "batchId" in body ? body.batchId : undefined,
      batchIds: "batchIds" in body ? body.batchIds.join(",") : undefined,
      alertId: "alertId" in body ? body.alertId : undefined,
      jobId: "jobId" in body ? body.jobId : undefined,
      delaySeconds,
      error: describeError(error),
    });
    message.retry({ delaySeconds });
  }
}

async function handleDeadLetter(message: Message<unknown>, env: Env): Promise<void> {
  const parsed = deadLetterMessage.safeParse(message.body);
  if (!parsed.success) {
    log("error", "malformed dead-letter message dropped", { id: message.id });
    message.ack();
    return;
  }
  try {
    await recordDeadLetterMessage(env, parsed.data, message.attempts, Date.now());
    message.ack();
  } catch (error) {
    log("error", "recording a dead letter failed; retrying", { id: message.id, error: describeError(error) });
    message.retry({ delaySeconds: 60 });
  }
}

export async function handleQueueBatch(
  batch: MessageBatch<ForwardMessage | DeadLetterMessage>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  // Every message at once; their sends share the invocation's connection limit. The handlers never throw.
  const limit = createLimit(MAX_CONCURRENT_SENDS);
  // The batches messages' fan-outs share one allowance too: D1's queries per invocation (./fan-out-batches.ts).
  const fanOuts = invocationFanOuts();
  const messages = batch.messages as ReadonlyArray<Message<unknown>>;
  if (isDeadLetterQueue(batch.queue)) await Promise.all(messages.map((message) => handleDeadLetter(message, env)));
  else await Promise.all(messages.map((message) => handleForwardMessage(message, env, limit, fanOuts)));
}
