/**
 * The inline hook audit is coalesced in the isolate (src/storage/inline-call-buffer.ts): calls of one type are
 * written as one D1 row when 100 have gathered or INLINE_AUDIT_FLUSH_MS after the first, and every request's
 * waitUntil holds the write that carries its call. A failed write is retried once, then reported by count only;
 * the answers never depend on it.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { INLINE_AUDIT_BATCH_CALLS } from "../../src/storage/inline-call-buffer";
import { fixture } from "../helpers/fixtures";
import { postInline } from "../helpers/inline";
import { failingDatabase } from "../helpers/worker";

type BatchRow = { id: number; hook_type: string; call_count: number; calls: string };

async function rowsAfter(id: number): Promise<BatchRow[]> {
  const { results } = await env.DB.prepare("SELECT id, hook_type, call_count, calls FROM inline_call_batches WHERE id > ?1 ORDER BY id")
    .bind(id)
    .all<BatchRow>();
  return results;
}

async function lastRowId(): Promise<number> {
  return (await env.DB.prepare("SELECT coalesce(max(id), 0) AS id FROM inline_call_batches").first<{ id: number }>())!.id;
}

const token = () => fixture("token-hook.request.json");

afterEach(() => vi.restoreAllMocks());

describe("calls arriving together share one row", () => {
  it(`concurrent calls within INLINE_AUDIT_FLUSH_MS are one row per type, and each request waited for it`, async () => {
    const before = await lastRowId();
    const vars = { INLINE_AUDIT_FLUSH_MS: "200" };
    const started = Date.now();
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => postInline("token", token(), { vars, headers: { "x-okta-request-id": `together-${i}` } })),
      postInline("telephony", fixture("telephony-hook.request.json"), { vars }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204, 204, 204, 200]);
    // postInline returns once the request's waitUntil work is done: the rows are there, no polling needed.
    const rows = await rowsAfter(before);
    expect(rows.map((r) => [r.hook_type, r.call_count])).toEqual(
      expect.arrayContaining([
        ["token", 5],
        ["telephony", 1],
      ]),
    );
    expect(rows).toHaveLength(2);
    const ids = (JSON.parse(rows.find((r) => r.hook_type === "token")!.calls) as Array<{ oktaRequestId: string }>).map((c) => c.oktaRequestId);
    expect(ids.sort()).toEqual(["together-0", "together-1", "together-2", "together-3", "together-4"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it(`a buffer of ${INLINE_AUDIT_BATCH_CALLS} calls is written at once, without waiting for INLINE_AUDIT_FLUSH_MS`, async () => {
    const before = await lastRowId();
    // 10 s is far past this test's timeout: the test only passes if the full buffer was written without it.
    const vars = { INLINE_AUDIT_FLUSH_MS: "10000" };
    const answers = await Promise.all(Array.from({ length: INLINE_AUDIT_BATCH_CALLS }, () => postInline("token", token(), { vars })));
    expect(answers.every((r) => r.status === 204)).toBe(true);
    expect((await rowsAfter(before)).map((r) => r.call_count)).toEqual([INLINE_AUDIT_BATCH_CALLS]);
  });

  it("with INLINE_AUDIT_FLUSH_MS=0 a lone call is written on the next tick", async () => {
    const before = await lastRowId();
    await postInline("token", token(), { vars: { INLINE_AUDIT_FLUSH_MS: "0" } });
    expect((await rowsAfter(before)).map((r) => r.call_count)).toEqual([1]);
  });
});

describe("a failed write", () => {
  /** The test D1, except that the first `failures` audit inserts fail. */
  function flakyAuditDatabase(failures: number): D1Database {
    let left = failures;
    return new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") {
          return (sql: string) => {
            if (sql.includes("INSERT INTO inline_call_batches") && left-- > 0) return failingDatabase("D1_ERROR: overloaded").prepare(sql);
            return target.prepare(sql);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  it("is retried once", async () => {
    const before = await lastRowId();
    const error = vi.spyOn(console, "error");
    const res = await postInline("token", token(), { bindings: { DB: flakyAuditDatabase(1) } });
    expect(res.status).toBe(204);
    expect((await rowsAfter(before)).map((r) => r.call_count)).toEqual([1]);
    expect(error).not.toHaveBeenCalled();
  });

  it("twice drops the calls with one error line that counts them and shows none of them", async () => {
    const before = await lastRowId();
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const db = flakyAuditDatabase(2);
    const vars = { INLINE_AUDIT_FLUSH_MS: "50" };
    const answers = await Promise.all(
      [0, 1, 2].map((i) => postInline("token", token(), { vars, bindings: { DB: db }, headers: { "x-okta-request-id": `dropped-${i}` } })),
    );
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204]);
    expect(await rowsAfter(before)).toEqual([]);
    const lines = error.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ level: "error", msg: "inline hook calls not recorded", inlineType: "token", calls: 3 })]);
    expect(JSON.stringify(lines)).not.toMatch(/dropped-|00u|Okta/);
  });

  it("when D1 is down altogether, the hook still answers (the type's fallback) and only the audit is lost", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await postInline("registration", fixture("registration-hook.request.ssr.json"), { bindings: { DB: failingDatabase() } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { commands: Array<{ type: string }> }).commands[0]?.type).toBe("com.okta.action.update");
  });
});
