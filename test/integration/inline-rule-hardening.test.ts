/**
 * Hostile registration rules and input, through the real admin and inline routes: patterns that stall a
 * backtracking engine (they run on RE2 here, in linear time), values long enough to pass a truncating check, and
 * email domains spelled to slip past allow and deny lists. Each case asserts the decision, never a duration.
 */
import { describe, expect, it } from "vitest";
import { admin, postInline, rulesPerTest, ssrRequest } from "../helpers/inline";

type Json = Record<string, any>;
const { createRule } = rulesPerTest();

const ssr = ssrRequest;

/** "DENY" with the field errors' locations, or "ALLOW" for Okta's empty answer. */
async function registration(profile: Json): Promise<{ decision: "ALLOW" | "DENY"; locations: string[] }> {
  const res = await postInline("registration", ssr(profile));
  if (res.status === 204) return { decision: "ALLOW", locations: [] };
  expect(res.status).toBe(200);
  const body = (await res.json()) as Json;
  expect(body.commands).toEqual([{ type: "com.okta.action.update", value: { registration: "DENY" } }]);
  return { decision: "DENY", locations: body.error.errorCauses.map((c: Json) => c.location) };
}

const patternRule = (attribute: string, pattern: string, effect: "deny-if-match" | "deny-unless-match") => ({
  kind: "registration.attribute-pattern",
  definition: { attribute, pattern, effect, errorSummary: "Check the form.", fieldMessage: "Not accepted." },
});

describe("patterns that stall a backtracking engine run in linear time", () => {
  const ten = "a".repeat(10 * 1024);
  it.each([
    // [pattern, a 10 KB value that makes a backtracking engine explode, does RE2 find a match in it]
    ["^(a|aa){100}$", `${ten}!`, false],
    ["^(a+){40}$", `${ten}!`, false],
    ["^a*a*a*a*a*a*a*a*$", `${ten}!`, false],
    ["^a*a*a*a*a*a*a*a*$", ten, true],
  ])("%s against 10 KB is decided (match: %s)", async (pattern, value, matches) => {
    await createRule(patternRule("firstName", pattern, "deny-unless-match"));
    expect((await registration({ firstName: value })).decision).toBe(matches ? "ALLOW" : "DENY");
  });

  it("the review's email rule: 170 × a and 10 KB of a are refused at once; a corp address passes", async () => {
    await createRule(patternRule("email", "^[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*@corp\\.com$", "deny-unless-match"));
    expect((await registration({ email: "a".repeat(170) })).decision).toBe("DENY");
    expect((await registration({ email: `${"a".repeat(10 * 1024)}@example.com` })).decision).toBe("DENY");
    expect((await registration({ email: "jane@corp.com" })).decision).toBe("ALLOW");
  });

  it("while such a rule is in place, other routes answer as usual (the isolate is not stalled)", async () => {
    await createRule(patternRule("email", "^[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*@corp\\.com$", "deny-unless-match"));
    const [reg, health] = await Promise.all([
      registration({ email: "a".repeat(10 * 1024) }),
      admin("GET", "/rules"),
    ]);
    expect(reg.decision).toBe("DENY");
    expect(health.status).toBe(200);
  });
});

describe("patterns RE2 cannot run are refused when written, with RE2's reason", () => {
  it.each([
    ["(a)\\1", /invalid escape sequence/],
    ["(?=a)b", /unsupported Perl syntax/],
    ["(?!a)b", /unsupported Perl syntax/],
    ["a{1001}", /invalid repeat count/],
    ["[", /missing closing \]/],
  ])("%s → 400", async (pattern, reason) => {
    const res = await admin("POST", "/rules", patternRule("lastName", pattern, "deny-if-match"));
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe("invalid_body");
    expect(body.error.message).toMatch(/^definition\.pattern: is not a valid RE2 regular expression/);
    expect(body.error.message).toMatch(reason);
    expect(((await (await admin("GET", "/rules")).json()) as Json).rules).toEqual([]);
  });
});

describe("long values are tested whole", () => {
  it("256 × a + <script> does not pass a ^[^<>]*$ deny-unless-match rule", async () => {
    await createRule(patternRule("firstName", "^[^<>]*$", "deny-unless-match"));
    expect((await registration({ firstName: `${"a".repeat(256)}<script>` })).decision).toBe("DENY");
    expect((await registration({ firstName: "a".repeat(5000) })).decision).toBe("ALLOW");
  });

  it("a deny-if-match rule sees the end of a long value", async () => {
    await createRule(patternRule("firstName", "<script>", "deny-if-match"));
    expect((await registration({ firstName: `${"a".repeat(1000)}<script>` })).decision).toBe("DENY");
  });

  it("a value past the 64 KiB cap is denied whatever the rule's effect", async () => {
    await createRule(patternRule("firstName", "<script>", "deny-if-match"));
    expect((await registration({ firstName: "a".repeat(64 * 1024 + 1) })).decision).toBe("DENY");
    expect((await registration({ firstName: "a".repeat(64 * 1024) })).decision).toBe("ALLOW");
  });
});

describe("email domains are compared in one canonical form", () => {
  const domainRule = (lists: { allow?: string[]; deny?: string[] }) => ({
    kind: "registration.email-domain",
    definition: { ...lists, errorSummary: "Registration refused.", fieldMessage: "This email domain is not accepted." },
  });

  it.each(["a@evil.com.", "a@evil.com ", "a@EVIL.com..", " a@Evil.Com", "a@evil。com", "a@sub.evil.com."])(
    "a deny list of evil.com and *.evil.com refuses %j",
    async (email) => {
      await createRule(domainRule({ deny: ["evil.com", "*.evil.com"] }));
      expect((await registration({ email })).decision).toBe("DENY");
    },
  );

  it("an allow list accepts its domain however it is spelled, and nothing else", async () => {
    await createRule(domainRule({ allow: ["example.com"] }));
    for (const email of ["a@example.com.", "a@EXAMPLE.com", "a@example.com "]) {
      expect((await registration({ email })).decision, email).toBe("ALLOW");
    }
    for (const email of ["a@example.com.evil.net", "a@notexample.com", "a@example.co"]) {
      expect((await registration({ email })).decision, email).toBe("DENY");
    }
  });

  it("internationalised domains: the list in Unicode or punycode matches the email in either", async () => {
    await createRule(domainRule({ deny: ["bücher.example"] }));
    const stored = ((await (await admin("GET", "/rules")).json()) as Json).rules[0];
    expect(stored.definition.deny).toEqual(["xn--bcher-kva.example"]);
    expect((await registration({ email: "a@bücher.example" })).decision).toBe("DENY");
    expect((await registration({ email: "a@XN--BCHER-KVA.example." })).decision).toBe("DENY");
    expect((await registration({ email: "a@bucher.example" })).decision).toBe("ALLOW");
  });

  it("an email whose domain cannot be read is refused by a deny list too (it cannot be shown to be clear of it)", async () => {
    await createRule(domainRule({ deny: ["evil.com"] }));
    expect((await registration({ email: "a@evil.com/x" })).decision).toBe("DENY");
    expect((await registration({ email: "a@ev il.com" })).decision).toBe("DENY");
    expect((await registration({ email: "a@good.example" })).decision).toBe("ALLOW");
  });

  it("list entries that are not domains are refused when written", async () => {
    for (const entry of ["evil.com/x", "a@b.com", "localhost", "", "ev il.com"]) {
      const res = await admin("POST", "/rules", domainRule({ deny: [entry] }));
      expect(res.status, entry).toBe(400);
      expect(((await res.json()) as Json).error.message).toMatch(/^definition\.deny\[0\]: must be a domain/);
    }
    // Trailing dots and case are accepted and stored canonical.
    await createRule(domainRule({ deny: ["Evil.COM.", "*.Evil.com"] }));
    expect(((await (await admin("GET", "/rules")).json()) as Json).rules[0].definition.deny).toEqual(["evil.com", "*.evil.com"]);
  });
});
