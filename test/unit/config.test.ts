import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES, parseConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { TEST_SECRETS_ENCRYPTION_KEY } from "../test-config";

const base = {} as Env;
/** Every required secret set, so a test sees only the problems it provokes. */
const complete = {
  EVENT_HOOK_SECRETS: "e",
  INLINE_HOOK_SECRETS: "i",
  ADMIN_TOKEN: "a",
  SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
} as Env;

describe("parseConfig", () => {
  it("splits comma-separated secrets and tokens, trimming blanks", () => {
    const { config, problems } = parseConfig({ ...complete, EVENT_HOOK_SECRETS: " a , b,,c ", ADMIN_TOKEN: "t1,t2" });
    expect(config.eventHook.secrets).toEqual(["a", "b", "c"]);
    expect(config.adminTokens).toEqual(["t1", "t2"]);
    expect(problems).toEqual([]);
  });

  it("defaults header names to authorization and lower-cases configured ones", () => {
    const { config } = parseConfig({ ...base, EVENT_HOOK_SECRETS: "x", ADMIN_TOKEN: "y", INLINE_HOOK_AUTH_HEADER: "X-Okta-Key" });
    expect(config.eventHook.header).toBe("authorization");
    expect(config.inlineHook.header).toBe("x-okta-key");
  });

  it("reports missing secrets without failing", () => {
    const { config, problems } = parseConfig(base);
    expect(config.eventHook.secrets).toEqual([]);
    expect(problems.filter((p) => /EVENT_HOOK_SECRETS|ADMIN_TOKEN/.test(p))).toHaveLength(2);
  });

  it.each([
    ["4096", 4096],
    ["", DEFAULT_MAX_BODY_BYTES],
    ["12", DEFAULT_MAX_BODY_BYTES],
    ["1e9", DEFAULT_MAX_BODY_BYTES],
    ["2048.5", DEFAULT_MAX_BODY_BYTES],
  ])("MAX_BODY_BYTES %j → %d", (raw, expected) => {
    expect(parseConfig({ ...base, MAX_BODY_BYTES: raw }).config.maxBodyBytes).toBe(expected);
  });

  it("parses IGNORE_ACTOR_IDS and ALLOW_INSECURE_DESTINATIONS", () => {
    const { config, problems } = parseConfig({ ...complete, IGNORE_ACTOR_IDS: "00u1, 00u2", ALLOW_INSECURE_DESTINATIONS: "TRUE" });
    expect([...config.ignoreActorIds]).toEqual(["00u1", "00u2"]);
    expect(config.allowInsecureDestinations).toBe(true);
    expect(problems).toEqual([]);
    const bad = parseConfig({ ...base, ALLOW_INSECURE_DESTINATIONS: "yes" });
    expect(bad.config.allowInsecureDestinations).toBe(false);
    expect(bad.problems).toContain('ALLOW_INSECURE_DESTINATIONS must be "true" or "false"; using false');
  });
});
