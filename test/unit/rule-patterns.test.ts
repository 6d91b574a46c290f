/**
 * Registration attribute patterns run synchronously on registrants' input, where the inline hook deadline cannot
 * interrupt them: patterns that can backtrack exponentially are refused when the rule is written.
 */
import { describe, expect, it } from "vitest";
import { isBacktrackSafe, ruleInputSchema } from "../../src/okta/inline/rules/schema";

describe("isBacktrackSafe", () => {
  it.each([
    ["^[A-Za-z' -]+$", true],
    ["^\\d{4}$", true],
    ["^(\\d{3})-(\\d{4})$", true],
    ["^(?:\\+1)?\\d{10}$", true],
    ["^[a-z]+(?<suffix>\\.[a-z]+)?$", true],
    ["^(abc)+$", true],
    ["[(a+)+]", true], // inside a character class these are literals
    ["\\(a+\\)+", true], // escaped parentheses are not a group
    ["^([a-zA-Z]+\\s?)*$", false],
    ["(a+)+", false],
    ["(a|aa)+", false],
    ["(a*)*", false],
    ["((ab)*c)+", false],
    ["(x+){2,}", false],
    ["(?:a|b)*", false],
  ])("%s → %s", (pattern, safe) => {
    expect(isBacktrackSafe(pattern)).toBe(safe);
  });

  it("the admin API's rule schema refuses an exponential pattern with a message that says what to do", () => {
    const parsed = ruleInputSchema.safeParse({
      kind: "registration.attribute-pattern",
      definition: {
        attribute: "lastName",
        pattern: "^([a-zA-Z]+\\s?)*$",
        effect: "deny-unless-match",
        errorSummary: "Check your name.",
        fieldMessage: "Letters only.",
      },
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("use a character class instead");
  });
});
