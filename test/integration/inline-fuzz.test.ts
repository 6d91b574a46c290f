/**
 * No input makes an inline hook route answer 500: every documented request, mutated at random (bounded, seeded),
 * goes through its route with rules of every kind in place, and is answered either in Okta's format (200 valid
 * for the type, or 204) or with our 4xx JSON error.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { INLINE_HOOK_SCHEMAS } from "../../src/okta/inline/index";
import { requestFixtures } from "../helpers/fixtures";
import { ADMIN_TOKEN, callWorker, postInline } from "../helpers/inline";
import { mutate, prng } from "../helpers/mutate";

const RULES = [
  { kind: "registration.email-domain", definition: { allow: ["example.com"], errorSummary: "Use your work email.", fieldMessage: "Only example.com." } },
  { kind: "registration.attribute-pattern", definition: { attribute: "lastName", pattern: "^[A-Za-z' -]+$", effect: "deny-unless-match", errorSummary: "Check your name.", fieldMessage: "Letters only." } },
  { kind: "registration.default-profile", definition: { values: { locale: "en_US" } } },
  { kind: "token.claim", definition: { token: "access", claim: "dept", value: { from: "profile", attribute: "department" } } },
  { kind: "token.claim", definition: { token: "identity", claim: "region", value: { from: "lookup", table: "regions", key: { from: "userId" } } } },
  { kind: "saml.attribute", definition: { attribute: "team", value: { from: "static", value: ["a", "b"] } } },
  { kind: "user-import.link-by-attribute", definition: { appUserAttribute: "email", table: "links", lowercaseKey: true } },
];

beforeAll(async () => {
  for (const rule of RULES) {
    const res = await callWorker(
      new Request("https://gateway.test/admin/api/rules", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify(rule),
      }),
    );
    expect(res.status, `${rule.kind}: ${await res.clone().text()}`).toBe(201);
  }
});

describe("inline hook routes — no input answers 500", () => {
  it.each(requestFixtures.map((f) => [f.name, f] as const))("40 mutations of %s", async (_name, { type, body }) => {
    const random = prng(body === null ? 1 : JSON.stringify(body).length);
    let answered = 0;
    for (let i = 0; i < 40; i++) {
      const mutated = mutate(body, random);
      const res = await postInline(type, mutated, { rawBody: JSON.stringify(mutated) ?? "" });
      const text = await res.text();
      const where = `mutation ${i}: ${(JSON.stringify(mutated) ?? "").slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`;
      expect([200, 204, 400], where).toContain(res.status);
      if (res.status === 400) expect(JSON.parse(text).error.code, where).toMatch(/^(invalid_body|malformed_json)$/);
      if (res.status === 200) expect(INLINE_HOOK_SCHEMAS[type].response.safeParse(JSON.parse(text)).success, where).toBe(true);
      if (res.status !== 400) answered++;
    }
    // Some mutations keep the request usable, so decisions (rules included) ran on odd input too.
    expect(answered).toBeGreaterThan(0);
  });
});

describe("inline hook routes — a request nested thousands deep in a field we do not read", () => {
  it.each(requestFixtures.map((f) => [f.name, f] as const))("%s is answered, never a 500", async (_name, { type, body }) => {
    for (const depth of [5_000, 200_000]) {
      const text = JSON.stringify(body).replace(/^\{/, `{"x":${"[".repeat(depth)}${"]".repeat(depth)},`);
      const res = await postInline(type, null, { rawBody: text, vars: { MAX_BODY_BYTES: "8388608" } });
      expect([200, 204, 400], `${depth}: ${res.status} ${(await res.clone().text()).slice(0, 200)}`).toContain(res.status);
    }
  });
});
