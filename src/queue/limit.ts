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

/** Thrown by a `startingBy` limit for work whose turn came too late: it was not run. */
export class StartedTooLate extends Error {
  constructor() {
    super("its turn for a connection came after its deadline; not started");
    this.name = "StartedTooLate";
  }
}

/**
 * `limit`, for work that must begin by `startBy` (epoch ms): work whose turn comes later is not run and rejects
 * with StartedTooLate, so a caller holding a lease never sends past it (its turn may wait behind slow destinations).
 */
export function startingBy(limit: Limit, startBy: number, now: () => number = () => Date.now()): Limit {
  return <T>(work: () => Promise<T>): Promise<T> => limit<T>(() => (now() > startBy ? Promise.reject<T>(new StartedTooLate()) : work()));
}
