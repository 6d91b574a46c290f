/**
 * Declarative rules (docs/inline-hooks.md): managed through /admin/api/rules, kept in D1, cached in the isolate, and
 * deciding each kind as documented in src/okta/inline/rules/schema.ts. Storage is per test file, so each test deletes
 * the rules it created.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INLINE_HOOK_SCHEMAS } from "../../src/okta/inline/index";
import { fixture } from "../helpers/fixtures";
import { admin, callWorker, postInline, rulesPerTest, ssrRequest } from "../helpers/inline";
import { TEST_INLINE_SECRET } from "../test-config";

type Json = Record<string, any>;

const { created, createRule } = rulesPerTest();

async function putLookup(table: string, key: string, value: unknown) {
  const res = await admin("PUT", `/rules/lookup-tables/${table}/entries/${encodeURIComponent(key)}`, { value });
  expect(res.status).toBe(200);
}

async function decide(type: string, body: unknown): Promise<{ status: number; body: Json | null }> {
  const res = await postInline(type, body);
  if (res.status === 204) return { status: 204, body: null };
  const json = (await res.json()) as Json;
  expect(INLINE_HOOK_SCHEMAS[type as keyof typeof INLINE_HOOK_SCHEMAS].response.safeParse(json).success).toBe(true);
  return { status: res.status, body: json };
}

const ssr = ssrRequest;

describe("registration rules", () => {
  it("email domain allow list: other domains are denied with a field error on email", async () => {
    await createRule({
      kind: "registration.email-domain",
      definition: { allow: ["example.com", "*.example.org"], errorSummary: "Use your work email.", fieldMessage: "Only example.com emails can register." },
    });
    expect((await decide("registration", ssr({}))).status).toBe(204);
    expect((await decide("registration", ssr({ email: "a@eu.example.org" }))).status).toBe(204);
    const denied = await decide("registration", ssr({ email: "a@gmail.com" }));
    expect(denied.body).toEqual({
      commands: [{ type: "com.okta.action.update", value: { registration: "DENY" } }],
      error: {
        errorSummary: "Use your work email.",
        errorCauses: [
          {
            errorSummary: "Only example.com emails can register.",
            reason: "EMAIL_DOMAIN_NOT_ALLOWED",
            locationType: "body",
            location: "data.userProfile.email",
            domain: "end-user",
          },
        ],
      },
    });
  });

  it("email domain deny list, and attribute patterns: every failing field gets its own error", async () => {
    await createRule({
      kind: "registration.email-domain",
      priority: 1,
      definition: { deny: ["mailinator.com"], errorSummary: "Registration refused.", fieldMessage: "Disposable addresses are not accepted." },
    });
    await createRule({
      kind: "registration.attribute-pattern",
      priority: 2,
      definition: {
        attribute: "lastName",
        pattern: "^[A-Za-z' -]+$",
        effect: "deny-unless-match",
        errorSummary: "Check the form.",
        fieldMessage: "Letters only.",
        reason: "INVALID_NAME",
      },
    });
    expect((await decide("registration", ssr({}))).status).toBe(204);
    const denied = await decide("registration", ssr({ email: "x@mailinator.com", lastName: "R2D2" }));
    expect(denied.body?.error.errorSummary).toBe("Registration refused.");
    expect(denied.body?.error.errorCauses.map((c: Json) => c.location)).toEqual(["data.userProfile.email", "data.userProfile.lastName"]);
  });

  it("attribute patterns apply to progressive profile updates too", async () => {
    await createRule({
      kind: "registration.attribute-pattern",
      definition: { attribute: "employeeNumber", pattern: "^\\d{4}$", effect: "deny-unless-match", errorSummary: "Incorrect employee number.", fieldMessage: "4 digits." },
    });
    const ok = fixture("registration-hook.request.progressive-profile.json");
    expect((await decide("registration", ok)).status).toBe(204);
    const bad = fixture("registration-hook.request.progressive-profile.json") as Json;
    bad.data.userProfileUpdate.employeeNumber = "12";
    const denied = await decide("registration", bad);
    expect(denied.body?.error.errorCauses[0].location).toBe("data.userProfile.employeeNumber");
  });

  it("default profile values fill only what the user left empty, with the command for the request type", async () => {
    await createRule({ kind: "registration.default-profile", definition: { values: { locale: "en_US", firstName: "Nobody", tier: 1 } } });
    const res = await decide("registration", ssr({ locale: "" }));
    expect(res.body).toEqual({ commands: [{ type: "com.okta.user.profile.update", value: { locale: "en_US", tier: 1 } }] });
    const progressive = await decide("registration", fixture("registration-hook.request.progressive-profile.json"));
    expect(progressive.body).toEqual({ commands: [{ type: "com.okta.user.progressive.profile.update", value: { tier: 1 } }] });
  });

  it("a disabled rule does not decide", async () => {
    await createRule({ kind: "registration.email-domain", enabled: false, definition: { deny: ["example.com"], errorSummary: "x", fieldMessage: "y" } });
    expect((await decide("registration", ssr({}))).status).toBe(204);
  });
});

describe("token rules", () => {
  const tokenRequest = () => fixture("token-hook.request.json") as Json;

  it("claims from a static value, a profile attribute and a lookup table", async () => {
    await createRule({ kind: "token.claim", priority: 1, definition: { token: "access", claim: "tenant", value: { from: "static", value: "acme" } } });
    await createRule({ kind: "token.claim", priority: 2, definition: { token: "identity", claim: "tz", value: { from: "profile", attribute: "timeZone" } } });
    await createRule({
      kind: "token.claim",
      priority: 3,
      definition: { token: "access", claim: "https://acme.example/roles", value: { from: "lookup", table: "roles", key: { from: "profile", attribute: "login" } } },
    });
    await createRule({ kind: "token.claim", priority: 4, definition: { token: "access", claim: "missing", value: { from: "lookup", table: "roles", key: { from: "userId" } } } });
    await putLookup("roles", "administrator1@clouditude.net", ["admin", "billing"]);
    const res = await decide("token", tokenRequest());
    expect(res.body).toEqual({
      commands: [
        { type: "com.okta.identity.patch", value: [{ op: "add", path: "/claims/tz", value: "America/Los_Angeles" }] },
        {
          type: "com.okta.access.patch",
          value: [
            { op: "add", path: "/claims/tenant", value: "acme" },
            { op: "add", path: "/claims/https:~1~1acme.example~1roles", value: ["admin", "billing"] },
          ],
        },
      ],
    });
  });

  it("conditions: client id, scope, group and issuer must all hold", async () => {
    const when = {
      clientIds: ["customClientIdNative"],
      scopes: ["email"],
      groups: ["Admins"],
      issuers: ["https://${yourOktaDomain}/oauth2/default"],
    };
    await createRule({ kind: "token.claim", definition: { token: "access", claim: "admin", value: { from: "static", value: true }, when } });
    const withGroup = tokenRequest();
    withGroup.data.access.claims.groups = ["Everyone", "Admins"];
    expect((await decide("token", withGroup)).body?.commands[0].value[0].path).toBe("/claims/admin");
    expect((await decide("token", tokenRequest())).status).toBe(204);
    const otherClient = tokenRequest();
    otherClient.data.access.claims.groups = ["Admins"];
    otherClient.data.context.protocol.client.id = "another-client";
    expect((await decide("token", otherClient)).status).toBe(204);
  });

  it("a claim for a token that was not requested is skipped", async () => {
    await createRule({ kind: "token.claim", definition: { token: "identity", claim: "x", value: { from: "static", value: 1 } } });
    const accessOnly = tokenRequest();
    delete accessOnly.data.identity;
    expect((await decide("token", accessOnly)).status).toBe(204);
  });
});

describe("SAML and user import rules", () => {
  it("SAML attributes from static values and lookups, conditioned on the app", async () => {
    await createRule({
      kind: "saml.attribute",
      definition: { attribute: "department", value: { from: "lookup", table: "departments", key: { from: "userId" } }, when: { clientIds: ["0oath92zlO60urQOP0g3"] } },
    });
    await createRule({ kind: "saml.attribute", definition: { attribute: "other-app", value: { from: "static", value: "x" }, when: { clientIds: ["0oaOTHER"] } } });
    await putLookup("departments", "00uq8tMo3zV0OfJON0g3", "Finance");
    const res = await decide("saml", fixture("saml-hook.request.json"));
    expect(res.body).toEqual({
      commands: [
        {
          type: "com.okta.assertion.patch",
          value: [
            {
              op: "add",
              path: "/claims/department",
              value: {
                attributes: { NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified" },
                attributeValues: [{ attributes: { "xsi:type": "xs:string" }, value: "Finance" }],
              },
            },
          ],
        },
      ],
    });
  });

  it("user import links to the Okta user found by attribute, and otherwise keeps Okta's default", async () => {
    await createRule({ kind: "user-import.link-by-attribute", definition: { appUserAttribute: "email", table: "okta-users-by-email", lowercaseKey: true } });
    expect((await decide("user-import", fixture("user-import-hook.request.json"))).status).toBe(204);
    await putLookup("okta-users-by-email", "sally.admin@clouditude.net", "00u1sally");
    const res = await decide("user-import", fixture("user-import-hook.request.json"));
    expect(res.body).toEqual({
      commands: [
        { type: "com.okta.action.update", value: { result: "LINK_USER" } },
        { type: "com.okta.user.update", value: { id: "00u1sally" } },
      ],
    });
  });

  it("the same request twice gets the same decision (Okta retries once)", async () => {
    await createRule({ kind: "user-import.link-by-attribute", definition: { appUserAttribute: "externalId", table: "by-external-id" } });
    await putLookup("by-external-id", "user221", { id: "00u221" });
    const first = await decide("user-import", fixture("user-import-hook.request.json"));
    const second = await decide("user-import", fixture("user-import-hook.request.json"));
    expect(second).toEqual(first);
    expect(first.body?.commands[1].value.id).toBe("00u221");
  });
});

describe("the isolate cache", () => {
  it("serves rules from memory within the TTL, and an admin change takes effect at once", async () => {
    const rule = await createRule({ kind: "token.claim", definition: { token: "access", claim: "tier", value: { from: "static", value: "gold" } } });
    const tier = async () => ((await decide("token", fixture("token-hook.request.json"))).body?.commands[0].value[0].value as string) ?? null;
    expect(await tier()).toBe("gold");
    // Changed behind the API's back: the isolate keeps its copy (no D1 round trip on the hot path).
    await env.DB.prepare("UPDATE inline_rules SET definition = json_set(definition, '$.value.value', 'silver') WHERE id = ?1").bind(rule.id).run();
    expect(await tier()).toBe("gold");
    // Through the API: the cache is dropped, the next call sees the change.
    const put = await admin("PUT", `/rules/${rule.id}`, { kind: "token.claim", definition: { token: "access", claim: "tier", value: { from: "static", value: "platinum" } } });
    expect(put.status).toBe(200);
    expect(await tier()).toBe("platinum");
    await admin("DELETE", `/rules/${created.pop()}`);
    expect(await tier()).toBe(null);
  });
});

describe("the cache TTL", () => {
  it("with INLINE_RULES_CACHE_TTL_SECONDS=0 every call reads D1 (as other isolates do once their TTL ends)", async () => {
    const rule = await createRule({ kind: "token.claim", definition: { token: "access", claim: "tier", value: { from: "static", value: "gold" } } });
    const vars = { INLINE_RULES_CACHE_TTL_SECONDS: "0" };
    const tier = async () => ((await (await postInline("token", fixture("token-hook.request.json"), { vars })).json()) as Json).commands[0].value[0].value;
    expect(await tier()).toBe("gold");
    await env.DB.prepare("UPDATE inline_rules SET definition = json_set(definition, '$.value.value', 'silver') WHERE id = ?1").bind(rule.id).run();
    expect(await tier()).toBe("silver");
  });
});

describe("renewing the copy before it expires", () => {
  it("a call past half the TTL is answered from the copy and renews it in the background; the next call has the new rules", async () => {
    const rule = await createRule({ kind: "token.claim", definition: { token: "access", claim: "tier", value: { from: "static", value: "gold" } } });
    const vars = { INLINE_RULES_CACHE_TTL_SECONDS: "4" };
    const tier = async () => ((await (await postInline("token", fixture("token-hook.request.json"), { vars })).json()) as Json).commands[0].value[0].value;
    expect(await tier()).toBe("gold"); // the copy is read now (createRule dropped the one before)
    await env.DB.prepare("UPDATE inline_rules SET definition = json_set(definition, '$.value.value', 'silver') WHERE id = ?1").bind(rule.id).run();
    expect(await tier()).toBe("gold"); // young copy: no D1 read at all
    await new Promise((r) => setTimeout(r, 2_100));
    // Past half the TTL: this call does not wait for D1 (it answers from the copy) but renews the copy after its
    // answer. The copy is still under 4 s old, so without the renewal the call after it would answer "gold" too.
    expect(await tier()).toBe("gold");
    expect(await tier()).toBe("silver");
  });

  it("the same for a looked-up value: answered from the copy past half the TTL, renewed after the answer", async () => {
    await createRule({
      kind: "token.claim",
      definition: { token: "access", claim: "roles", value: { from: "lookup", table: "renewed-roles", key: { from: "profile", attribute: "login" } } },
    });
    await putLookup("renewed-roles", "administrator1@clouditude.net", ["admin"]);
    const vars = { INLINE_RULES_CACHE_TTL_SECONDS: "4" };
    const roles = async () => ((await (await postInline("token", fixture("token-hook.request.json"), { vars })).json()) as Json).commands[0].value[0].value;
    expect(await roles()).toEqual(["admin"]);
    await env.DB.prepare("UPDATE inline_lookup_entries SET value = '[\"auditor\"]' WHERE table_name = 'renewed-roles'").run();
    expect(await roles()).toEqual(["admin"]);
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await roles()).toEqual(["admin"]);
    expect(await roles()).toEqual(["auditor"]);
  });
});

describe("admin API: invalid rules are refused with what is wrong", () => {
  it.each([
    [{ kind: "token.claim", definition: { token: "identity", claim: "sub", value: { from: "static", value: "x" } } }, /definition\.claim: claim "sub" is reserved.*access tokens only/],
    [{ kind: "token.claim", definition: { token: "access", claim: "groups", value: { from: "static", value: [] } } }, /definition\.claim: claim "groups" is reserved/],
    [{ kind: "registration.attribute-pattern", definition: { attribute: "x", pattern: "([", effect: "deny-if-match", errorSummary: "a", fieldMessage: "b" } }, /definition\.pattern: is not a valid RE2 regular expression/],
    [{ kind: "registration.email-domain", definition: { errorSummary: "a", fieldMessage: "b" } }, /needs at least one domain/],
    [{ kind: "registration.email-domain", definition: { allow: ["not a domain"], errorSummary: "a", fieldMessage: "b" } }, /definition\.allow\[0\]: must be a domain/],
    [{ kind: "registration.default-profile", definition: { values: { password: "hunter2" } } }, /cannot set password/],
    [{ kind: "saml.attribute", definition: { attribute: "a", value: { from: "static", value: 1 }, when: { scopes: ["openid"] } } }, /SAML has no scopes/],
    [{ kind: "token.claim", definition: { token: "access", claim: "x", value: { from: "db", table: "t" } } }, /definition\.value/],
    [{ kind: "token.claim", definition: { token: "access", claim: "x", value: { from: "static", value: 1 }, extra: true } }, /definition/],
    [{ kind: "no.such.kind", definition: {} }, /kind/],
  ])("refuses %j", async (rule, message) => {
    const res = await admin("POST", "/rules", rule);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe("invalid_body");
    expect(body.error.message).toMatch(message);
  });

  it("lists, reads, 404s and requires the admin token", async () => {
    const rule = await createRule({ kind: "registration.default-profile", name: "defaults", definition: { values: { locale: "en" } } });
    expect(((await (await admin("GET", "/rules?type=registration")).json()) as Json).rules.map((r: Json) => r.id)).toContain(rule.id);
    expect(((await (await admin("GET", `/rules/${rule.id}`)).json()) as Json).name).toBe("defaults");
    expect((await admin("GET", "/rules/nope")).status).toBe(404);
    expect((await admin("GET", "/rules?type=nope")).status).toBe(400);
    const anonymous = await callWorker(new Request("https://gateway.test/admin/api/rules"));
    expect(anonymous.status).toBe(401);
    const withHookSecret = await callWorker(new Request("https://gateway.test/admin/api/rules", { headers: { authorization: `Bearer ${TEST_INLINE_SECRET}` } }));
    expect(withHookSecret.status).toBe(401);
  });

  it("manages lookup table entries", async () => {
    await putLookup("colors", "a", "red");
    await putLookup("colors", "b", { hex: "#00f" });
    const list = (await (await admin("GET", "/rules/lookup-tables/colors?limit=1")).json()) as Json;
    expect(list.entries.map((e: Json) => [e.key, e.value])).toEqual([["a", "red"]]);
    expect(list.next).toBe("a");
    const page2 = (await (await admin("GET", "/rules/lookup-tables/colors?after=a")).json()) as Json;
    expect(page2.entries.map((e: Json) => e.value)).toEqual([{ hex: "#00f" }]);
    expect((await admin("DELETE", "/rules/lookup-tables/colors/entries/a")).status).toBe(204);
    expect((await admin("DELETE", "/rules/lookup-tables/colors/entries/a")).status).toBe(404);
    expect((await admin("PUT", "/rules/lookup-tables/bad%20name/entries/a", { value: 1 })).status).toBe(400);
    expect((await admin("PUT", "/rules/lookup-tables/colors/entries/c", { value: null })).status).toBe(400);
    // A key that is not valid percent-encoding is taken as written, never a 500.
    expect((await admin("PUT", "/rules/lookup-tables/colors/entries/%E0%A4%A", { value: 1 })).status).toBeLessThan(500);
  });
});
