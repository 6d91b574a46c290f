/**
 * Every admin JSON body is bounded in size and in nesting depth before it is validated: a value thousands of levels
 * deep used to overflow the stack inside schema validation (a 500). Through the real routes; nothing is written.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ADMIN_MAX_BODY_BYTES, ADMIN_MAX_BODY_DEPTH } from "../../src/http/validated-json";
import { admin, callWorker, ADMIN_TOKEN } from "../helpers/inline";

type Json = Record<string, any>;

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

function raw(method: string, path: string, text: string): Promise<Response> {
  return callWorker(
    new Request(`https://gateway.test/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: text,
    }),
  );
}

async function counts() {
  const n = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
  return { destinations: await n("destinations"), rules: await n("inline_rules"), lookups: await n("inline_lookup_entries") };
}

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM destinations"), env.DB.prepare("DELETE FROM inline_rules"), env.DB.prepare("DELETE FROM inline_lookup_entries")]);
});

const claimRule = (value: unknown) => ({ kind: "token.claim", definition: { token: "access", claim: "deep", value: { from: "static", value } } });

describe("nesting depth", () => {
  it.each([
    ["POST", "/rules", () => claimRule(nested(5000))],
    ["POST", "/destinations", () => ({ name: "x", url: "https://receiver.example.com/", eventTypes: nested(5000) })],
    ["PUT", "/rules/lookup-tables/t/entries/k", () => ({ value: nested(5000) })],
  ])("%s %s with a 5,000-deep value → 400 naming the limit, nothing written", async (method, path, body) => {
    const before = await counts();
    const res = await raw(method, path, JSON.stringify(body()));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: "invalid_body", message: `The request body nests arrays and objects deeper than ${ADMIN_MAX_BODY_DEPTH} levels.` },
    });
    expect(await counts()).toEqual(before);
  });

  it("a rule replaced (PUT) with a deep value is refused and the stored rule is unchanged", async () => {
    const created = (await (await admin("POST", "/rules", claimRule("shallow"))).json()) as Json;
    const res = await raw("PUT", `/rules/${created.id}`, JSON.stringify(claimRule(nested(5000))));
    expect(res.status).toBe(400);
    const stored = (await (await admin("GET", `/rules/${created.id}`)).json()) as Json;
    expect(stored.definition.value).toEqual({ from: "static", value: "shallow" });
  });

  it("a destination patched with deep filters is refused", async () => {
    const created = (await (await admin("POST", "/destinations", { name: "x", url: "https://receiver.example.com/" })).json()) as Json;
    const res = await raw("PATCH", `/destinations/${created.id}`, JSON.stringify({ filter: nested(5000, {}) }));
    expect(res.status).toBe(400);
  });

  it("nesting within the limit is accepted: a static claim value nested 29 deep (the body adds 3 levels)", async () => {
    const res = await admin("POST", "/rules", claimRule(nested(ADMIN_MAX_BODY_DEPTH - 3)));
    expect(res.status, await res.clone().text()).toBe(201);
    const tooDeep = await admin("POST", "/rules", claimRule(nested(ADMIN_MAX_BODY_DEPTH - 2)));
    expect(tooDeep.status).toBe(400);
  });
});

describe("size", () => {
  it(`a body over ${ADMIN_MAX_BODY_BYTES} bytes → 413, declared or streamed, nothing written`, async () => {
    const before = await counts();
    const big = JSON.stringify(claimRule("x".repeat(ADMIN_MAX_BODY_BYTES)));
    const declared = await raw("POST", "/rules", big);
    expect(declared.status).toBe(413);
    const streamed = await callWorker(
      new Request("https://gateway.test/admin/api/rules", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: new Blob([big]).stream(),
        // @ts-expect-error: workerd needs duplex for a streamed request body, like undici
        duplex: "half",
      }),
    );
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as Json).error.code).toBe("payload_too_large");
    expect(await counts()).toEqual(before);
  });
});
