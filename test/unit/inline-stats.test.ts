import { describe, expect, it } from "vitest";
import { decidedByGroup, nearestRank, summarizeInlineCalls } from "../../src/storage/stats-inline";
import type { InlineCallRecord } from "../../src/storage/inline-calls";

describe("inline hook stats, pure parts", () => {
  it("nearest rank: the ceil(q·n)-th smallest value", () => {
    expect(nearestRank(Array.from({ length: 100 }, (_, i) => 100 - i))).toEqual({ p50: 50, p95: 95, p99: 99, sample: 100 });
    expect(nearestRank([7])).toEqual({ p50: 7, p95: 7, p99: 7, sample: 1 });
    // 19 fast and one slow call: p95 is the 19th value (fast), p99 the 20th (slow).
    expect(nearestRank([...Array.from({ length: 19 }, () => 3), 2500])).toEqual({ p50: 3, p95: 3, p99: 2500, sample: 20 });
    expect(nearestRank([])).toBeNull();
  });

  it("groups decidedBy by what comes before its first colon", () => {
    expect(["rules:a,b", "rules:c", "handler", "default", "fallback", "repeat:handler", "repeat:rules:a"].map(decidedByGroup)).toEqual([
      "rules",
      "rules",
      "handler",
      "default",
      "fallback",
      "repeat",
      "repeat",
    ]);
  });

  it("counts most first, ties by name, and fallbacks only where there was one", () => {
    const call = (decision: string, decidedBy: string, fallbackReason: string | null, receivedAt: number): InlineCallRecord => ({
      hookType: "token",
      requestType: null,
      oktaRequestId: null,
      eventId: null,
      decision,
      decidedBy,
      fallbackReason,
      commands: [],
      status: 200,
      latencyMs: 1,
      receivedAt,
    });
    const stats = summarizeInlineCalls("token", [call("patch", "handler", null, 3), call("error", "fallback", "deadline", 1), call("empty", "default", null, 2), call("patch", "rules:x", null, 4)], true);
    expect(stats).toMatchObject({
      calls: 4,
      oldestCall: 1,
      decisions: [
        { decision: "patch", count: 2 },
        { decision: "empty", count: 1 },
        { decision: "error", count: 1 },
      ],
      decidedBy: [
        { group: "default", count: 1 },
        { group: "fallback", count: 1 },
        { group: "handler", count: 1 },
        { group: "rules", count: 1 },
      ],
      fallbacks: [{ reason: "deadline", count: 1 }],
    });
  });
});
