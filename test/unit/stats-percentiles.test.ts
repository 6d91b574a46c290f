import { describe, expect, it } from "vitest";
import { percentiles } from "../../src/storage/stats-deliveries";

describe("nearest-rank percentiles from a latency histogram", () => {
  it("p50 is the ceil(n/2)-th value, p95 the ceil(0.95 n)-th, counting each value as often as it occurred", () => {
    // 1..100, one each: p50 = 50, p95 = 95.
    expect(percentiles(Array.from({ length: 100 }, (_, i) => ({ latency: i + 1, n: 1 })))).toEqual({ p50: 50, p95: 95, sample: 100 });
    // 90 fast, 10 slow: p50 fast, p95 slow.
    expect(percentiles([{ latency: 800, n: 10 }, { latency: 12, n: 90 }])).toEqual({ p50: 12, p95: 800, sample: 100 });
    // The same latency from two sources (first attempts and retries) adds up.
    expect(percentiles([{ latency: 5, n: 1 }, { latency: 7, n: 1 }, { latency: 5, n: 1 }])).toEqual({ p50: 5, p95: 7, sample: 3 });
    expect(percentiles([{ latency: 9, n: 1 }])).toEqual({ p50: 9, p95: 9, sample: 1 });
  });

  it("is null without a success", () => {
    expect(percentiles([])).toBeNull();
    expect(percentiles([{ latency: 3, n: 0 }])).toBeNull();
  });
});
