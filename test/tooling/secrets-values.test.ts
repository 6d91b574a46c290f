/**
 * The rules of scripts/secrets-values.ts: value formats the gateway accepts (README "Configuration"), rotation
 * lists with the new value first, refusal of entries the gateway would reject, and the text pasted into Okta.
 */
import { describe, expect, it } from "vitest";
import { fromBase64Any } from "../../src/crypto/base64.ts";
import { generateSecret, headerName, pasteInstructions, problemWith, rotationList } from "../../scripts/secrets-values.ts";

describe("generateSecret", () => {
  it("tokens are 32 random bytes as base64url: 43 header-safe characters, different every time", () => {
    const values = Array.from({ length: 50 }, () => generateSecret("token"));
    for (const value of values) {
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(value, "base64url")).toHaveLength(32);
    }
    expect(new Set(values).size).toBe(values.length);
  });

  it("encryption keys are base64 of 32 bytes, as the gateway's own decoder reads them", () => {
    const key = generateSecret("aes-key");
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(fromBase64Any(key)).toHaveLength(32);
    expect(problemWith("aes-key", key)).toBeUndefined();
  });
});

describe("rotationList", () => {
  it("puts the new value first and keeps the current ones in order, trimmed, without repeats", () => {
    expect(rotationList("EVENT_HOOK_SECRETS", " old-a , old-b,old-a,", "new")).toBe("new,old-a,old-b");
    expect(rotationList("ADMIN_TOKEN", "new,old", "new")).toBe("new,old");
  });

  it("refuses an empty current list and entries the gateway would not accept, naming the position only", () => {
    expect(() => rotationList("ADMIN_TOKEN", " , ", "new")).toThrow("no current value of ADMIN_TOKEN was given");
    expect(() => rotationList("INLINE_HOOK_SECRETS", "ok,has space", "new")).toThrow(
      "INLINE_HOOK_SECRETS: current value #2 contains whitespace or a control character",
    );
    const good = Buffer.alloc(32, 1).toString("base64");
    expect(rotationList("SECRETS_ENCRYPTION_KEY", good, "NEW")).toBe(`NEW,${good}`);
    expect(() => rotationList("SECRETS_ENCRYPTION_KEY", `${good},c2hvcnQ=`, "NEW")).toThrow(/#2 is not base64 of 32 bytes$/);
    expect(() => rotationList("SECRETS_ENCRYPTION_KEY", "not*base64", "NEW")).toThrow(/#1 is not base64$/);
  });

  it("base64url keys are accepted too, as the gateway accepts them", () => {
    const urlKey = Buffer.alloc(32, 250).toString("base64url");
    expect(fromBase64Any(urlKey)).toHaveLength(32);
    expect(problemWith("aes-key", urlKey)).toBeUndefined();
  });
});

describe("what to paste into Okta", () => {
  it("uses the configured header names, lower-cased as the gateway compares them; blank means authorization", () => {
    expect(headerName({ EVENT_HOOK_AUTH_HEADER: "X-Okta-Secret" }, "EVENT_HOOK_AUTH_HEADER")).toBe("x-okta-secret");
    expect(headerName({ INLINE_HOOK_AUTH_HEADER: " " }, "INLINE_HOOK_AUTH_HEADER")).toBe("authorization");
    expect(headerName({}, "INLINE_HOOK_AUTH_HEADER")).toBe("authorization");
  });

  it("lists only the values given, each once, under where it goes", () => {
    const lines = pasteInstructions({ EVENT_HOOK_SECRETS: "E", ADMIN_TOKEN: "A" }, { EVENT_HOOK_AUTH_HEADER: "x-hook" });
    expect(lines).toEqual([
      "Okta event hooks (Admin Console: Workflow > Event Hooks, or authScheme in the API / Terraform):",
      "  Authentication field   x-hook",
      "  Authentication secret  E",
      "Admin API (your own scripts and the admin CLI):",
      "  Authorization: Bearer A",
    ]);
  });
});
