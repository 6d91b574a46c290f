// Cloudflare's published prices (Workers Paid plan, USD), as listed on these pages on 2026-12-01:
//   https://developers.cloudflare.com/d1/platform/pricing/
//   https://developers.cloudflare.com/queues/platform/pricing/
//   https://developers.cloudflare.com/workers/platform/pricing/
// and what the benchmark's measured rows, operations and requests cost at those prices.

export const PRICES = {
  asOf: "2026-12-01",
  plan: "Workers Paid ($5 per month, which includes the allowances below)",
  planMonthly: 5,
  d1RowsWrittenPerMillion: 1.0,
  d1RowsWrittenIncludedPerMonth: 50_000_000,
  d1RowsReadPerMillion: 0.001,
  d1RowsReadIncludedPerMonth: 25_000_000_000,
  d1StoragePerGbMonth: 0.75,
  d1StorageIncludedGb: 5,
  queueOperationsPerMillion: 0.4,
  queueOperationsIncludedPerMonth: 1_000_000,
  workersRequestsPerMillion: 0.3,
  workersRequestsIncludedPerMonth: 10_000_000,
  workersCpuMsPerMillion: 0.02,
  workersCpuMsIncludedPerMonth: 30_000_000,
};

/**
 * Cost of one million units (events, or inline calls) beyond the included allowances, from per-unit usage:
 * `{ rowsWritten, rowsRead, queueOperations, requests }` per unit.
 */
export function costPerMillion(perUnit) {
  const p = PRICES;
  const parts = {
    d1Writes: (perUnit.rowsWritten ?? 0) * p.d1RowsWrittenPerMillion,
    d1Reads: (perUnit.rowsRead ?? 0) * p.d1RowsReadPerMillion,
    queues: (perUnit.queueOperations ?? 0) * p.queueOperationsPerMillion,
    requests: (perUnit.requests ?? 0) * p.workersRequestsPerMillion,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/**
 * A month of an org at Okta's event hook maximum (400,000 events per org per 24 h,
 * https://developer.okta.com/docs/concepts/event-hooks/#rate-limits), every event forwarded to `destinations`,
 * `retentionDays` of events kept, with the included allowances subtracted.
 */
export function monthAtOktaMaximum(perEvent, { bytesPerEvent, retentionDays = 30, eventsPerDay = 400_000 }) {
  const p = PRICES;
  const events = eventsPerDay * 30;
  const beyond = (used, included) => Math.max(0, used - included);
  const storageGb = (bytesPerEvent * eventsPerDay * retentionDays) / 1e9;
  const lines = {
    d1Writes: (beyond(events * perEvent.rowsWritten, p.d1RowsWrittenIncludedPerMonth) / 1e6) * p.d1RowsWrittenPerMillion,
    d1Reads: (beyond(events * perEvent.rowsRead, p.d1RowsReadIncludedPerMonth) / 1e6) * p.d1RowsReadPerMillion,
    d1Storage: beyond(storageGb, p.d1StorageIncludedGb) * p.d1StoragePerGbMonth,
    queues: (beyond(events * perEvent.queueOperations, p.queueOperationsIncludedPerMonth) / 1e6) * p.queueOperationsPerMillion,
    requests: (beyond(events * perEvent.requests, p.workersRequestsIncludedPerMonth) / 1e6) * p.workersRequestsPerMillion,
  };
  return { events, storageGb, lines, usage: Object.values(lines).reduce((a, b) => a + b, 0), plan: p.planMonthly };
}
