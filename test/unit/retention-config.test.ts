import { describe, expect, it } from "vitest";
import { DEFAULT_D1_SIZE_LIMIT_MB, DEFAULT_RETENTION_DAYS, parseConfig } from "../../src/config";
import type { Env } from "../../src/env";

const base = {} as Env;

describe("retention ages and the D1 size limit", () => {
  it("default to 30 days of events and dead letters, 7 of inline calls, 400 of the stats rollup, 10 GB", () => {
    const { config, problems } = parseConfig(base);
    expect(config.retention).toEqual({ eventDays: 30, deadLetterDays: 30, inlineCallDays: 7, statsDays: 400 });
    expect(config.d1SizeLimitBytes).toBe(DEFAULT_D1_SIZE_LIMIT_MB * 1_000_000);
    expect(problems.filter((p) => /RETENTION|D1_SIZE/.test(p))).toEqual([]);
  });

  it("takes whole days from 0 (keep forever) to 3650, and the limit in MB (500 on Workers Free)", () => {
    const { config, problems } = parseConfig({
      ...base,
      RETENTION_EVENT_DAYS: "90",
      RETENTION_DEAD_LETTER_DAYS: "0",
      RETENTION_INLINE_CALL_DAYS: "1",
      RETENTION_STATS_DAYS: "3650",
      D1_SIZE_LIMIT_MB: "500",
    });
    expect(config.retention).toEqual({ eventDays: 90, deadLetterDays: 0, inlineCallDays: 1, statsDays: 3650 });
    expect(config.d1SizeLimitBytes).toBe(500_000_000);
    expect(problems.filter((p) => /RETENTION|D1_SIZE/.test(p))).toEqual([]);
  });

  it.each(["-1", "3651", "7.5", "30d", "thirty"])("RETENTION_EVENT_DAYS=%j is a problem naming the variable, and the default applies", (raw) => {
    const { config, problems } = parseConfig({ ...base, RETENTION_EVENT_DAYS: raw });
    expect(config.retention.eventDays).toBe(DEFAULT_RETENTION_DAYS.events);
    expect(problems).toContain("RETENTION_EVENT_DAYS must be an integer between 0 and 3650; using 30");
  });

  it("an invalid D1_SIZE_LIMIT_MB is a problem and falls back to 10 GB", () => {
    const { config, problems } = parseConfig({ ...base, D1_SIZE_LIMIT_MB: "0" });
    expect(config.d1SizeLimitBytes).toBe(10_000_000_000);
    expect(problems).toContain("D1_SIZE_LIMIT_MB must be an integer between 1 and 1000000; using 10000");
  });
});
