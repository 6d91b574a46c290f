/**
 * ALERT_DESTINATION_ID, ALERT_BACKLOG_MINUTES and ALERT_COOLDOWN_MINUTES (docs/operations.md "Alerts"): blank
 * destination = no alerts; a malformed value is a problem naming the variable (never its value) and falls back.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_BACKLOG_MINUTES, DEFAULT_ALERT_COOLDOWN_MINUTES, parseConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { TEST_SECRETS_ENCRYPTION_KEY } from "../test-config";

const complete = {
  EVENT_HOOK_SECRETS: "e",
  INLINE_HOOK_SECRETS: "i",
  ADMIN_TOKEN: "a",
  SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
} as Env;

describe("alert configuration", () => {
  it("is off with the defaults when nothing is set", () => {
    const { config, problems } = parseConfig(complete);
    expect(config.alerts).toEqual({
      destinationId: null,
      backlogLateMs: DEFAULT_ALERT_BACKLOG_MINUTES * 60_000,
      cooldownMs: DEFAULT_ALERT_COOLDOWN_MINUTES * 60_000,
    });
    expect(problems).toEqual([]);
  });

  it("takes a destination id and minutes", () => {
    const { config, problems } = parseConfig({
      ...complete,
      ALERT_DESTINATION_ID: " dst_0123456789abcdef0123 ",
      ALERT_BACKLOG_MINUTES: "30",
      ALERT_COOLDOWN_MINUTES: "5",
    });
    expect(config.alerts).toEqual({ destinationId: "dst_0123456789abcdef0123", backlogLateMs: 1_800_000, cooldownMs: 300_000 });
    expect(problems).toEqual([]);
  });

  it.each(["dst_short", "https://alerts.example.com/hook", "DST_0123456789ABCDEF0123", "dst_0123456789abcdef0123,dst_0123456789abcdef0124"])(
    "refuses ALERT_DESTINATION_ID %j with a problem that does not repeat it, and sends no alert",
    (raw) => {
      const { config, problems } = parseConfig({ ...complete, ALERT_DESTINATION_ID: raw });
      expect(config.alerts.destinationId).toBeNull();
      expect(problems).toEqual(["ALERT_DESTINATION_ID is not a destination id (dst_ and 20 hex digits): no alert is sent"]);
      expect(problems.join(" ")).not.toContain(raw);
    },
  );

  it.each([
    ["ALERT_BACKLOG_MINUTES", "0", "must be an integer between 1 and 1440; using 15"],
    ["ALERT_BACKLOG_MINUTES", "1441", "must be an integer between 1 and 1440; using 15"],
    ["ALERT_BACKLOG_MINUTES", "ten", "must be an integer between 1 and 1440; using 15"],
    ["ALERT_COOLDOWN_MINUTES", "0", "must be an integer between 1 and 10080; using 60"],
    ["ALERT_COOLDOWN_MINUTES", "2.5", "must be an integer between 1 and 10080; using 60"],
  ])("%s=%j falls back to the default with a problem", (name, raw, message) => {
    const { config, problems } = parseConfig({ ...complete, [name]: raw });
    expect(problems).toEqual([`${name} ${message}`]);
    expect(config.alerts.backlogLateMs).toBe(DEFAULT_ALERT_BACKLOG_MINUTES * 60_000);
    expect(config.alerts.cooldownMs).toBe(DEFAULT_ALERT_COOLDOWN_MINUTES * 60_000);
  });
});
