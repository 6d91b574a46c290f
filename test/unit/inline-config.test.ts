/** The inline hooks block of the configuration (src/config.ts): defaults, bounds, and problems an operator sees. */
import { describe, expect, it } from "vitest";
import { DEFAULT_INLINE_FALLBACKS, parseConfig } from "../../src/config";
import type { Env } from "../../src/env";

const parse = (vars: Partial<Env>) => parseConfig({ INLINE_HOOK_SECRETS: "s", ...vars } as Env);

describe("inline hook configuration", () => {
  it("defaults: 2000 ms deadline, 30 s rule cache, Okta's own fallbacks, no OAuth", () => {
    const { config } = parse({});
    expect(config.inlineHook).toMatchObject({ deadlineMs: 2000, rulesCacheTtlMs: 30_000, oauth: null, fallbacks: DEFAULT_INLINE_FALLBACKS });
    expect(DEFAULT_INLINE_FALLBACKS).toEqual({
      token: "open",
      registration: "closed",
      "password-import": "closed",
      saml: "open",
      "user-import": "open",
      telephony: "open",
    });
  });

  it("refuses deadlines outside 100-2800 ms and names the variable", () => {
    const { config, problems } = parse({ INLINE_HOOK_DEADLINE_MS: "3000", INLINE_RULES_CACHE_TTL_SECONDS: "-1" });
    expect(config.inlineHook.deadlineMs).toBe(2000);
    expect(problems.join("\n")).toMatch(/INLINE_HOOK_DEADLINE_MS must be an integer between 100 and 2800/);
    expect(problems.join("\n")).toMatch(/INLINE_RULES_CACHE_TTL_SECONDS/);
  });

  it("INLINE_AUDIT_FLUSH_MS: 1000 ms by default, 0-10000, anything else named as a problem", () => {
    expect(parse({}).config.inlineHook.auditFlushMs).toBe(1000);
    expect(parse({ INLINE_AUDIT_FLUSH_MS: "0" }).config.inlineHook.auditFlushMs).toBe(0);
    expect(parse({ INLINE_AUDIT_FLUSH_MS: "10000" }).config.inlineHook.auditFlushMs).toBe(10_000);
    for (const raw of ["10001", "-1", "1.5", "soon"]) {
      const { config, problems } = parse({ INLINE_AUDIT_FLUSH_MS: raw });
      expect(config.inlineHook.auditFlushMs, raw).toBe(1000);
      expect(problems.join("\n"), raw).toMatch(/INLINE_AUDIT_FLUSH_MS must be an integer between 0 and 10000/);
    }
  });

  it("parses per-type fallbacks, and never lets password import fail open", () => {
    const { config, problems } = parse({ INLINE_HOOK_FALLBACKS: "token=closed, password-import=open, bogus=open, saml=maybe" });
    expect(config.inlineHook.fallbacks).toMatchObject({ token: "closed", "password-import": "closed", saml: "open" });
    expect(problems.filter((p) => p.startsWith("INLINE_HOOK_FALLBACKS"))).toHaveLength(3);
  });

  it("OAuth needs issuer, audience and scope; the JWKS URL defaults to {issuer}/v1/keys and must be https", () => {
    const full = parse({ INLINE_HOOK_OAUTH_ISSUER: "https://acme.okta.com/oauth2/default", INLINE_HOOK_OAUTH_AUDIENCE: "api://x", INLINE_HOOK_OAUTH_SCOPE: "hooks" });
    expect(full.config.inlineHook.oauth?.jwksUrl).toBe("https://acme.okta.com/oauth2/default/v1/keys");
    const half = parse({ INLINE_HOOK_OAUTH_ISSUER: "https://acme.okta.com/oauth2/default" });
    expect(half.config.inlineHook.oauth).toBeNull();
    expect(half.problems.join()).toMatch(/half configured \(INLINE_HOOK_OAUTH_AUDIENCE, INLINE_HOOK_OAUTH_SCOPE not set\)/);
    const plain = parse({ INLINE_HOOK_OAUTH_ISSUER: "http://acme.example.com", INLINE_HOOK_OAUTH_AUDIENCE: "a", INLINE_HOOK_OAUTH_SCOPE: "s" });
    expect(plain.config.inlineHook.oauth).toBeNull();
  });

  it("reports when inline hooks have no authentication at all", () => {
    expect(parse({ INLINE_HOOK_SECRETS: "" }).problems.join()).toMatch(/Neither INLINE_HOOK_SECRETS nor INLINE_HOOK_OAUTH_\*/);
  });
});
