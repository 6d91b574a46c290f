import { describe, expect, it } from "vitest";
import {
  canRetry,
  classifyStatus,
  MAX_DELIVERY_ATTEMPTS,
  MAX_QUEUE_DELAY_SECONDS,
  nominalSchedule,
  parseRetryAfter,
  retryDelaySeconds,
} from "../../src/forwarding/backoff";

describe("classifyStatus: 2xx delivered, 408/429/5xx/no response transient, other statuses permanent", () => {
  it.each([
    [200, "delivered"], [204, "delivered"], [299, "delivered"],
    [null, "transient"], [408, "transient"], [429, "transient"], [500, "transient"], [503, "transient"], [599, "transient"],
    [301, "permanent"], [302, "permanent"], [400, "permanent"], [401, "permanent"], [404, "permanent"], [410, "permanent"],
    [413, "permanent"], [100, "permanent"],
  ] as const)("%s → %s", (status, verdict) => {
    expect(classifyStatus(status)).toBe(verdict);
  });
});

describe("retry schedule", () => {
  it("grows x3 from the base and caps each delay at Queues' 12 h limit", () => {
    expect(nominalSchedule(5)).toEqual([5, 15, 45, 135, 405, 1215, 3645, 10935, 32805, 43200, 43200, 43200]);
    expect(nominalSchedule(5)).toHaveLength(MAX_DELIVERY_ATTEMPTS - 1);
  });

  it("spans at least 24 hours even when every jitter lands at its lowest", () => {
    const lowest = nominalSchedule(5).reduce((sum, _, i) => sum + retryDelaySeconds({ failedAttempts: i + 1, baseSeconds: 5, random: 0 }), 0);
    expect(lowest).toBeGreaterThanOrEqual(24 * 3600);
    const highest = nominalSchedule(5).reduce((sum, _, i) => sum + retryDelaySeconds({ failedAttempts: i + 1, baseSeconds: 5, random: 0.999999 }), 0);
    expect(highest).toBeLessThanOrEqual(60 * 3600);
  });

  it("applies ±20 % jitter and never exceeds 12 h nor goes below 1 s", () => {
    expect(retryDelaySeconds({ failedAttempts: 3, baseSeconds: 5, random: 0 })).toBe(36);
    expect(retryDelaySeconds({ failedAttempts: 3, baseSeconds: 5, random: 0.5 })).toBe(45);
    expect(retryDelaySeconds({ failedAttempts: 3, baseSeconds: 5, random: 0.999999 })).toBe(54);
    for (let n = 1; n <= MAX_DELIVERY_ATTEMPTS; n++) {
      for (const random of [0, 0.5, 0.999999]) {
        const d = retryDelaySeconds({ failedAttempts: n, baseSeconds: 600, random });
        expect(d).toBeLessThanOrEqual(MAX_QUEUE_DELAY_SECONDS);
        expect(d).toBeGreaterThanOrEqual(1);
      }
    }
    expect(retryDelaySeconds({ failedAttempts: 1, baseSeconds: 1, random: 0 })).toBe(1);
  });

  it("never comes back sooner than Retry-After asks, nor later than 12 h", () => {
    expect(retryDelaySeconds({ failedAttempts: 1, baseSeconds: 5, random: 0.5, retryAfterSeconds: 120 })).toBe(120);
    expect(retryDelaySeconds({ failedAttempts: 8, baseSeconds: 5, random: 0.5, retryAfterSeconds: 2 })).toBe(10935);
    expect(retryDelaySeconds({ failedAttempts: 1, baseSeconds: 5, random: 0.5, retryAfterSeconds: 999_999 })).toBe(MAX_QUEUE_DELAY_SECONDS);
  });

  it("stops after the last attempt", () => {
    expect(canRetry(1)).toBe(true);
    expect(canRetry(MAX_DELIVERY_ATTEMPTS - 1)).toBe(true);
    expect(canRetry(MAX_DELIVERY_ATTEMPTS)).toBe(false);
  });
});

describe("parseRetryAfter (RFC 9110 §10.2.3: delta-seconds or HTTP-date)", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  it("reads delta-seconds", () => expect(parseRetryAfter("120", now)).toBe(120));
  it("reads an HTTP-date relative to now", () => expect(parseRetryAfter("Mon, 23 Nov 2026 12:05:00 GMT", now)).toBe(300));
  it("treats a past date as zero", () => expect(parseRetryAfter("Mon, 23 Nov 2026 11:00:00 GMT", now)).toBe(0));
  it("ignores absent and garbage values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
  });
});
