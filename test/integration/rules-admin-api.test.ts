/**
 * The rule routes the dashboard needs beside create/replace/delete: PATCH /admin/api/rules/{id} (enable, disable or
 * move a rule without resending its definition) and GET /admin/api/rules/lookup-tables (the tables that hold
 * entries, with their counts). Through the real Worker and local D1: the inline hook's next answer follows a
 * disabled rule at once, bad input is a 4xx naming the field and changes nothing, and nothing is shown without the
 * admin token.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { LOOKUP_COUNT_CAP } from "../../src/storage/inline-rules";
import { request } from "../helpers/gateway";
import { admin, postInline, rulesPerTest, ssrRequest } from "../helpers/inline";

type Json = Record<string, any>;

const { createRule } = rulesPerTest();

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM inline_rules"), env.DB.prepare("DELETE FROM inline_lookup_entries")]);
});

const denyGmail = (name: string, priority = 100) => ({
  kind: "registration.email-domain",
  name,
  priority,
  definition: { deny: ["gmail.com"], errorSummary: "Use your work email.", fieldMessage: "Not this domain." },
});

async function storedRule(id: string): Promise<Json> {
  const res = await admin("GET", `/rules/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

describe("PATCH /admin/api/rules/{id}", () => {
  it("disables a rule without its definition, and Okta's next registration call is answered without it", async () => {
    const rule = await createRule(denyGmail("No gmail"));
    expect((await postInline("registration", ssrRequest({ email: "a@gmail.com" }))).status).toBe(200);

    const res = await admin("PATCH", `/rules/${rule.id}`, { enabled: false });
    expect(res.status).toBe(200);
    const patched = (await res.json()) as Json;
    expect(patched).toMatchObject({ id: rule.id, enabled: false, priority: 100, definition: rule.definition, name: "No gmail" });
    expect(patched.updatedAt).toBeGreaterThanOrEqual(rule.updatedAt);
    expect(await storedRule(rule.id)).toEqual(patched);
    // This isolate's rule cache was dropped: the disabled rule no longer decides.
    expect((await postInline("registration", ssrRequest({ email: "a@gmail.com" }))).status).toBe(204);

    expect((await admin("PATCH", `/rules/${rule.id}`, { enabled: true })).status).toBe(200);
    expect((await postInline("registration", ssrRequest({ email: "a@gmail.com" }))).status).toBe(200);
  });

  it("moves a rule in the evaluation order by its priority, alone or with enabled", async () => {
    const first = await createRule(denyGmail("first", 10));
    const second = await createRule(denyGmail("second", 20));
    const order = async () => (((await (await admin("GET", "/rules?type=registration")).json()) as Json).rules as Json[]).map((r) => r.name);
    expect(await order()).toEqual(["first", "second"]);
    expect((await admin("PATCH", `/rules/${second.id}`, { priority: 5 })).status).toBe(200);
    expect(await order()).toEqual(["second", "first"]);
    const both = (await (await admin("PATCH", `/rules/${first.id}`, { priority: 0, enabled: false })).json()) as Json;
    expect(both).toMatchObject({ priority: 0, enabled: false });
    expect(await order()).toEqual(["first", "second"]);
    expect((await storedRule(first.id)).definition).toEqual(first.definition);
  });

  it.each([
    [{}, "enabled"],
    [{ enabled: "no" }, "enabled"],
    [{ enabled: null }, "enabled"],
    [{ priority: -1 }, "priority"],
    [{ priority: 1.5 }, "priority"],
    [{ priority: 1_000_001 }, "priority"],
    [{ priority: "10" }, "priority"],
    [{ enabled: true, definition: { deny: ["x.com"] } }, "definition"],
    [{ enabled: true, kind: "token.claim" }, "kind"],
    [[], ""],
  ])("%j: 400 invalid_body naming the field, the rule unchanged", async (body, field) => {
    const rule = await createRule(denyGmail("kept"));
    const res = await admin("PATCH", `/rules/${rule.id}`, body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("invalid_body");
    expect(error.message).toContain(field);
    expect(await storedRule(rule.id)).toEqual(rule);
  });

  it("malformed JSON, no body, the wrong media type and an oversized body are refused; the rule unchanged", async () => {
    const rule = await createRule(denyGmail("kept"));
    const path = `/admin/api/rules/${rule.id}`;
    const json = { "content-type": "application/json" };
    expect((await request(path, { as: "admin", method: "PATCH", body: "{", headers: json })).status).toBe(400);
    expect((await request(path, { as: "admin", method: "PATCH", headers: json })).status).toBe(400);
    expect((await request(path, { as: "admin", method: "PATCH", body: "enabled=false", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await request(path, { as: "admin", method: "PATCH", body: JSON.stringify({ enabled: false, pad: "x".repeat(70_000) }) })).status).toBe(413);
    expect(await storedRule(rule.id)).toEqual(rule);
  });

  it("an unknown rule is a 404 before its body is judged", async () => {
    for (const body of [{ enabled: false }, { nonsense: 1 }]) {
      const res = await admin("PATCH", "/rules/00000000-0000-0000-0000-000000000000", body);
      expect(res.status).toBe(404);
      expect(((await res.json()) as Json).error.code).toBe("not_found");
    }
  });

  it("401 without the token or with a wrong one, the rule unchanged", async () => {
    const rule = await createRule(denyGmail("kept"));
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Array<Record<string, string>>) {
      const res = await request(`/admin/api/rules/${rule.id}`, { method: "PATCH", body: { enabled: false }, headers });
      expect(res.status).toBe(401);
    }
    expect(await storedRule(rule.id)).toEqual(rule);
  });
});

describe("GET /admin/api/rules/lookup-tables", () => {
  async function fill(table: string, entries: number) {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
       INSERT INTO inline_lookup_entries (table_name, lookup_key, value, updated_at) SELECT ?1, 'k' || i, '"v"', 1 FROM n`,
    )
      .bind(table, entries)
      .run();
  }

  const list = async (query = "") => {
    const res = await admin("GET", `/rules/lookup-tables${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  };

  it("is empty while no table holds an entry", async () => {
    expect(await list()).toEqual({ tables: [], next: null });
  });

  it("lists the tables that hold entries in name order, each with its count; entries set and deleted through the API count", async () => {
    expect((await admin("PUT", "/rules/lookup-tables/tiers/entries/alice", { value: "gold" })).status).toBe(200);
    expect((await admin("PUT", "/rules/lookup-tables/tiers/entries/bob", { value: "silver" })).status).toBe(200);
    expect((await admin("PUT", "/rules/lookup-tables/app.users/entries/00u1", { value: { id: "00u1" } })).status).toBe(200);
    await fill("Zones", 3);
    expect(await list()).toEqual({
      tables: [
        { table: "Zones", entries: 3, entriesCapped: false },
        { table: "app.users", entries: 1, entriesCapped: false },
        { table: "tiers", entries: 2, entriesCapped: false },
      ],
      next: null,
    });
    expect((await admin("DELETE", "/rules/lookup-tables/app.users/entries/00u1")).status).toBe(204);
    expect((await list()).tables.map((t: Json) => t.table)).toEqual(["Zones", "tiers"]);
  });

  it("pages by table name with limit and after", async () => {
    for (const table of ["a", "b", "c", "d", "e"]) await fill(table, 1);
    const first = await list("?limit=2");
    expect(first).toMatchObject({ tables: [{ table: "a" }, { table: "b" }], next: "b" });
    const second = await list(`?limit=2&after=${first.next}`);
    expect(second).toMatchObject({ tables: [{ table: "c" }, { table: "d" }], next: "d" });
    const last = await list(`?limit=2&after=${second.next}`);
    expect(last).toEqual({ tables: [{ table: "e", entries: 1, entriesCapped: false }], next: null });
  });

  it(`counts a large table up to ${LOOKUP_COUNT_CAP.toLocaleString("en")} and says there are more`, async () => {
    await fill("big", LOOKUP_COUNT_CAP + 5);
    await fill("small", 2);
    expect((await list()).tables).toEqual([
      { table: "big", entries: LOOKUP_COUNT_CAP, entriesCapped: true },
      { table: "small", entries: 2, entriesCapped: false },
    ]);
  });

  it("is not mistaken for a rule id, and a table's own entries are still at /lookup-tables/{table}", async () => {
    await fill("tiers", 1);
    expect((await list()).tables).toHaveLength(1);
    expect(((await (await admin("GET", "/rules/lookup-tables/tiers")).json()) as Json).entries).toHaveLength(1);
  });

  it.each(["limit=0", "limit=101", "limit=x", "limit=1.5", "after=bad%20name!", "after=", "other=1", "limit=1&limit=2"])(
    "?%s: 400 invalid_query naming the parameter",
    async (query) => {
      const res = await admin("GET", `/rules/lookup-tables?${query}`);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("invalid_query");
      expect(error.message).toContain(query.split("=")[0]!);
    },
  );

  it("401 without the token or with a wrong one", async () => {
    await fill("secret-table", 1);
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Array<Record<string, string>>) {
      const res = await request("/admin/api/rules/lookup-tables", { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("secret-table");
    }
  });
});
