import { describe, expect, it } from "vitest";
import {
  DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES,
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
  it("defaults: first retry after 5 s, disable after 100 consecutive failures", () => {
    const { config, problems } = parseConfig(base);
    expect(config.forwarding).toEqual({
      retryBaseSeconds: DEFAULT_FORWARD_RETRY_BASE_SECONDS,
      disableAfterFailures: DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES,
    });
    expect(DEFAULT_FORWARD_RETRY_BASE_SECONDS).toBe(5);
    expect(DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES).toBe(100);
    expect(problems).toEqual([]);
  });

  it("reads FORWARD_RETRY_BASE_SECONDS and DESTINATION_DISABLE_AFTER_FAILURES", () => {
    const { config, problems } = parseConfig({ ...base, FORWARD_RETRY_BASE_SECONDS: "1", DESTINATION_DISABLE_AFTER_FAILURES: " 25 " });
    expect(config.forwarding).toEqual({ retryBaseSeconds: 1, disableAfterFailures: 25 });
    expect(problems).toEqual([]);
  });

  it.each([
    ["FORWARD_RETRY_BASE_SECONDS", "0"],
    ["FORWARD_RETRY_BASE_SECONDS", "601"],
    ["FORWARD_RETRY_BASE_SECONDS", "2.5"],
    ["DESTINATION_DISABLE_AFTER_FAILURES", "0"],
    ["DESTINATION_DISABLE_AFTER_FAILURES", "many"],
  ])("%s=%j is reported as a problem and the default is used", (name, raw) => {
    const { config, problems } = parseConfig({ ...base, [name]: raw });
    expect(config.forwarding).toEqual({
      retryBaseSeconds: DEFAULT_FORWARD_RETRY_BASE_SECONDS,
      disableAfterFailures: DEFAULT_DESTINATION_DISABLE_AFTER_FAILURES,
    });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name} must be an integer between`))]);
  });
});
