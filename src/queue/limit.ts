/**
 * A bound on simultaneous work within one invocation: a Worker has 6 simultaneous outbound connections and queues
 * further fetches, and a delivery's timeout must measure the destination, not our own queueing.
 */
export type Limit = <T>(work: () => Promise<T>) => Promise<T>;

export function createLimit(concurrency: number): Limit {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer can never slip in between.
    if (running >= concurrency) await new Promise<void>((resume) => waiting.push(resume));
    else running++;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
