import { describe, expect, it } from "vitest";
import {
  DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES,
  DEFAULT_DESTINATION_DISABLE_AFTER_MINUTES,
  DEFAULT_FORWARD_ENQUEUE_WINDOW_MS,
  DEFAULT_FORWARD_RETRY_BASE_SECONDS,
  parseConfig,
} from "../../src/config";
import type { Env } from "../../src/env";
import { TEST_SECRETS_ENCRYPTION_KEY } from "../test-config";

const base = {
  EVENT_HOOK_SECRETS: "x",
  INLINE_HOOK_SECRETS: "z",
  ADMIN_TOKEN: "y",
  SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
} as Env;

describe("forwarding configuration", () => {
  it("defaults: first retry after 5 s, disable after 100 consecutive failures over at least 60 minutes, batches enqueued after 500 ms", () => {
    const { config, problems } = parseConfig(base);
    expect(config.forwarding).toEqual({
      retryBaseSeconds: DEFAULT_FORWARD_RETRY_BASE_SECONDS,
      enqueueWindowMs: DEFAULT_FORWARD_ENQUEUE_WINDOW_MS,
      disableAfterFailures: DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES,
      disableAfterMs: DEFAULT_DESTINATION_DISABLE_AFTER_MINUTES * 60_000,
    });
    expect(DEFAULT_FORWARD_RETRY_BASE_SECONDS).toBe(5);
    expect(DEFAULT_FORWARD_ENQUEUE_WINDOW_MS).toBe(500);
    expect(DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES).toBe(100);
    expect(DEFAULT_DESTINATION_DISABLE_AFTER_MINUTES).toBe(60);
    expect(problems).toEqual([]);
  });

  it("reads FORWARD_RETRY_BASE_SECONDS, FORWARD_ENQUEUE_WINDOW_MS, DESTINATION_DISABLE_AFTER_FAILURES and DESTINATION_DISABLE_AFTER_MINUTES (0: the count alone)", () => {
    const { config, problems } = parseConfig({
      ...base,
      FORWARD_RETRY_BASE_SECONDS: "1",
      FORWARD_ENQUEUE_WINDOW_MS: "0",
      DESTINATION_DISABLE_AFTER_FAILURES: " 25 ",
      DESTINATION_DISABLE_AFTER_MINUTES: "0",
    });
    expect(config.forwarding).toEqual({ retryBaseSeconds: 1, enqueueWindowMs: 0, disableAfterFailures: 25, disableAfterMs: 0 });
    expect(problems).toEqual([]);
    expect(parseConfig({ ...base, FORWARD_ENQUEUE_WINDOW_MS: "5000" }).config.forwarding.enqueueWindowMs).toBe(5000);
    expect(parseConfig({ ...base, DESTINATION_DISABLE_AFTER_MINUTES: "10080" }).config.forwarding.disableAfterMs).toBe(7 * 24 * 3_600_000);
  });

  it.each([
    ["FORWARD_RETRY_BASE_SECONDS", "0"],
    ["FORWARD_RETRY_BASE_SECONDS", "601"],
    ["FORWARD_RETRY_BASE_SECONDS", "2.5"],
    ["DESTINATION_DISABLE_AFTER_FAILURES", "0"],
    ["DESTINATION_DISABLE_AFTER_FAILURES", "many"],
    ["DESTINATION_DISABLE_AFTER_MINUTES", "-1"],
    ["DESTINATION_DISABLE_AFTER_MINUTES", "10081"],
    ["DESTINATION_DISABLE_AFTER_MINUTES", "1.5"],
    ["FORWARD_ENQUEUE_WINDOW_MS", "-1"],
    ["FORWARD_ENQUEUE_WINDOW_MS", "5001"],
    ["FORWARD_ENQUEUE_WINDOW_MS", "0.5"],
    ["FORWARD_ENQUEUE_WINDOW_MS", "soon"],
  ])("%s=%j is reported as a problem and the default is used", (name, raw) => {
    const { config, problems } = parseConfig({ ...base, [name]: raw });
    expect(config.forwarding).toEqual({
      retryBaseSeconds: DEFAULT_FORWARD_RETRY_BASE_SECONDS,
      enqueueWindowMs: DEFAULT_FORWARD_ENQUEUE_WINDOW_MS,
      disableAfterFailures: DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES,
      disableAfterMs: DEFAULT_DESTINATION_DISABLE_AFTER_MINUTES * 60_000,
    });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name} must be an integer between`))]);
  });
});
