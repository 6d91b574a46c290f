/**
 * Registration attribute patterns run on RE2 (re2js): linear-time matching, RE2 syntax. These pin the semantics a
 * rule author relies on; the hostile cases through the real routes are in
 * test/integration/inline-rule-hardening.test.ts.
 */
import { describe, expect, it } from "vitest";
import { patternFinds, patternProblem } from "../../src/okta/inline/rules/patterns";
import { ruleInputSchema } from "../../src/okta/inline/rules/schema";

describe("RE2 patterns", () => {
  it.each([
    ["^[A-Za-z' -]+$", "O'Brien-Smith", true],
    ["^[A-Za-z' -]+$", "R2D2", false],
    ["^\\d{4}$", "1234", true],
    ["^\\d{4}$", "12345", false],
    ["^(?:\\+1)?\\d{10}$", "+15551234567", true],
    ["corp", "jane@corp.com", true], // unanchored: found anywhere, like RegExp.prototype.test
    ["^[a-z]+(?P<suffix>\\.[a-z]+)?$", "a.b", true],
    ["^\\p{L}+$", "Zoë", true], // Unicode classes
    ["^.$", "😀", true], // one code point, not two UTF-16 units
    ["^.*$", "a\ud800b", true], // a lone surrogate does not throw
  ])("%s finds %j: %s", (pattern, text, found) => {
    expect(patternProblem(pattern)).toBeUndefined();
    expect(patternFinds(pattern, false, text)).toBe(found);
  });

  it("ignoreCase", () => {
    expect(patternFinds("^abc$", true, "ABC")).toBe(true);
    expect(patternFinds("^abc$", false, "ABC")).toBe(false);
  });

  it.each(["(a)\\1", "(?=a)", "(?<!a)b", "[", "a{1001}", "x**"])("%s is refused with RE2's reason", (pattern) => {
    expect(patternProblem(pattern)).toMatch(/\S/);
    expect(patternFinds(pattern, false, "anything")).toBe(false);
  });

  it("the rule schema refuses what RE2 cannot compile, naming the reason", () => {
    const parsed = ruleInputSchema.safeParse({
      kind: "registration.attribute-pattern",
      definition: { attribute: "lastName", pattern: "(?=x)y", effect: "deny-unless-match", errorSummary: "a", fieldMessage: "b" },
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("is not a valid RE2 regular expression (invalid or unsupported Perl syntax");
  });

  it("the rule schema accepts what used to be refused as backtrack-prone: RE2 runs it in linear time", () => {
    const parsed = ruleInputSchema.safeParse({
      kind: "registration.attribute-pattern",
      definition: { attribute: "lastName", pattern: "^([a-zA-Z]+\\s?)*$", effect: "deny-unless-match", errorSummary: "a", fieldMessage: "b" },
    });
    expect(parsed.success).toBe(true);
  });
});
