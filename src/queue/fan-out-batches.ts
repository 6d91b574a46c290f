/**
 * A {kind:"batches"} message: fan each of its stored batches out (./fan-out.ts), at most MAX_CONCURRENT_FAN_OUTS
 * at a time across the queue invocation, so each batch's outbox lease is taken when its fan-out really starts — the
 * lease and the fan-out's send budget (FAN_OUT_SEND_BUDGET_MS) count from it, not from the message's arrival.
 *
 * An invocation starts at most MAX_FAN_OUTS_PER_INVOCATION fan-outs, whatever its messages hold (up to 25 messages
 * of up to 100 batches each): D1 allows 1,000 queries per Worker invocation on the paid plan (50 on the free one,
 * https://developers.cloudflare.com/d1/platform/limits/), and each fan-out makes two round trips of several
 * statements, plus a send per event and destination. Past that, D1 would refuse the fan-outs' reads and their
 * recording (after their sends: the events would go out again), and the lease could not even be given back. The
 * batches over the allowance are answered as `late`, like those past the start budget.
 *
 * A batch already fanned out (a copy of the message, or a retry of one that partly failed) or leased by another
 * consumer is not due: nothing is done, and that is no error. A fan-out that throws has given its lease back; the
 * caller retries the whole message, whose other batches are then not due. Batches whose turn has not come
 * FAN_OUT_START_BUDGET_MS after the message began (they wait behind fan-outs to destinations that hang) are not
 * started here but answered as `late`, for a message of their own: a queue invocation's wall time is bounded, and
 * a fan-out begun by then ends well within it.
 */
import { describeError, log } from "../log";
import { FAN_OUT_SEND_BUDGET_MS, fanOutBatch, type FanOutDeps } from "./fan-out";
import { createLimit, startingBy, StartedTooLate, type Limit } from "./limit";

/**
 * Fan-outs of one invocation at a time: as many as it has connections (MAX_CONCURRENT_SENDS), so every connection
 * has a fan-out to serve while the others wait for D1; more would only take leases early.
 */
export const MAX_CONCURRENT_FAN_OUTS = 6;
/**
 * Fan-outs one queue invocation starts, at most (see above): twice what 25 single-batch messages started before
 * "batches", and far inside D1's 1,000 queries even counting each statement of a round trip.
 */
export const MAX_FAN_OUTS_PER_INVOCATION = 50;

/** What the messages of one queue invocation share: the fan-outs' turns, and how many may still start. */
export interface FanOutAllowance {
  limit: Limit;
  left: number;
}

export function invocationFanOuts(): FanOutAllowance {
  return { limit: createLimit(MAX_CONCURRENT_FAN_OUTS), left: MAX_FAN_OUTS_PER_INVOCATION };
}
/** A batch of the message not begun this long after the message began is left to a new message. */
export const FAN_OUT_START_BUDGET_MS = FAN_OUT_SEND_BUDGET_MS;

export interface BatchesOutcome {
  /** Batches fanned out by this message. */
  fannedOut: number;
  /** Batches that were not due: fanned out before, gone, or leased by another consumer. */
  notDue: number;
  /** Batches whose fan-out threw (each logged); the message must be retried. */
  failed: number[];
  /** Batches not started within FAN_OUT_START_BUDGET_MS or the invocation's allowance: to send again as a message of their own. */
  late: number[];
}

export async function fanOutBatches(
  deps: FanOutDeps & { startBudgetMs?: number; allowance?: FanOutAllowance },
  batchIds: readonly number[],
): Promise<BatchesOutcome> {
  const allowance = deps.allowance ?? invocationFanOuts();
  const starts = startingBy(allowance.limit, Date.now() + (deps.startBudgetMs ?? FAN_OUT_START_BUDGET_MS));
  const outcome: BatchesOutcome = { fannedOut: 0, notDue: 0, failed: [], late: [] };
  await Promise.all(
    batchIds.map(async (batchId) => {
      // Taken in message order, before any turn is waited for: a batch over the allowance is never leased.
      if (allowance.left <= 0) {
        outcome.late.push(batchId);
        return;
      }
      allowance.left--;
      try {
        const result = await starts(() => fanOutBatch(deps, batchId));
        if (result.outcome === "fanned_out") outcome.fannedOut++;
        else outcome.notDue++;
        log("info", "fan-out", { batchId, ...result });
      } catch (error) {
        if (error instanceof StartedTooLate) {
          outcome.late.push(batchId);
          return;
        }
        outcome.failed.push(batchId);
        log("error", "fan-out failed", { batchId, error: describeError(error) });
      }
    }),
  );
  outcome.failed.sort((a, b) => a - b);
  outcome.late.sort((a, b) => a - b);
  return outcome;
}
