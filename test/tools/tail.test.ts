/**
 * The tail renderer (tools/tail/) on recorded `wrangler tail --format json` output (test/fixtures/tail/): reading
 * multi-line records however the stream is cut, one line per invocation with the fields operators look for,
 * filters, the JSON-lines format, escaping of control characters, and the command line on a file and on stdin.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { colors } from "../../tools/colors.ts";
import { main } from "../../tools/tail/cli.ts";
import { entryOf, type Entry } from "../../tools/tail/entries.ts";
import { routeFilter, statusFilter, statusMatcher } from "../../tools/tail/filters.ts";
import { parseRecords, RecordScanner } from "../../tools/tail/records.ts";
import { entryJson, renderEntry, safe } from "../../tools/tail/render.ts";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/tail/recorded-session.json");
const session = readFileSync(FIXTURE, "utf8");
const plain = colors(false);

function entries(): Entry[] {
  return parseRecords(session).map((r) => {
    if (!r.ok) throw new Error(r.error);
    return entryOf(r.value)!;
  });
}

async function run(args: string[], stdin?: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const input = Object.assign(Readable.from(stdin === undefined ? [] : [stdin]), { isTTY: stdin === undefined });
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), stdin: input });
  return { code, out, err };
}

describe("reading wrangler tail --format json", () => {
  it("reads every pretty-printed record of the session, each as wrangler wrote it", () => {
    const records = parseRecords(session);
    expect(records).toHaveLength(22);
    expect(records.every((r) => r.ok)).toBe(true);
    // wrangler's jsonPrintLogs: JSON.stringify(record, null, 4), one after another.
    expect(session.startsWith('{\n    "outcome": "ok",')).toBe(true);
  });

  it("gives the same records however the stream is cut into chunks", () => {
    const whole = parseRecords(session).map((r) => (r.ok ? r.value : r.error));
    for (const size of [1, 7, 64, 1000]) {
      const scanner = new RecordScanner();
      const got: unknown[] = [];
      for (let i = 0; i < session.length; i += size) got.push(...scanner.push(session.slice(i, i + size)).map((r) => (r.ok ? r.value : r.error)));
      got.push(...scanner.end());
      expect(got).toEqual(whole);
    }
  });

  it("takes JSON Lines too, skips text between records, and keeps braces inside strings", () => {
    const text = 'banner { not json\n{"outcome":"ok","logs":[{"message":["a } { \\" b"]}]}\n\n{"outcome":"ok","logs":[]}\n';
    const records = parseRecords(text);
    expect(records.filter((r) => r.ok).map((r) => (r.ok ? r.value : null))).toEqual([
      { outcome: "ok", logs: [{ message: ['a } { " b'] }] },
      { outcome: "ok", logs: [] },
    ]);
  });

  it("reports a record cut off by the end of the input", () => {
    const records = parseRecords('{"outcome":"ok","logs":[');
    expect(records).toEqual([{ ok: false, error: "the input ended inside a record", text: '{"outcome":"ok","logs":[' }]);
  });
});

describe("one line per request", () => {
  it("shows a delivery's events, stored and duplicates, with its D1 cost and request id", () => {
    const delivery = entries().find((e) => e.fields.duplicates === 1)!;
    expect(renderEntry(plain, delivery)).toEqual([
      "09:30:00.091  POST   /hooks/events                  204    6 ms  events 2 stored 1 dup 1  d1 4q 23r 5w  #2f3b552c",
    ]);
  });

  it("shows the inline decision and who made it, the fallback and its reason beneath", () => {
    const all = entries();
    const byRules = all.find((e) => e.fields.inlineType === "token" && e.fields.status === 200)!;
    expect(renderEntry(plain, byRules)).toEqual([
      "09:30:00.105  POST   /hooks/inline/token            200   12 ms  token → patch by 2 rules  d1 1q 6r 0w  #522828da",
    ]);
    const fallback = all.find((e) => e.fields.fallback !== undefined)!;
    expect(renderEntry(plain, fallback)).toEqual([
      "09:30:01.143  POST   /hooks/inline/token            204 2003 ms  token → empty by fallback  fallback deadline  #4b1d6c0e",
      "               ↳ warn  inline hook fallback  inlineType=token reason=deadline detail=no decision within 2000 ms",
    ]);
  });

  it("shows refusals with their error code and why auth failed, never a secret", () => {
    const lines = entries().flatMap((e) => renderEntry(plain, e));
    expect(lines).toContain("09:30:00.007  POST   /hooks/events                  401    2 ms  error unauthorized  auth mismatch  #00f9fdcd");
    expect(lines).toContain("09:30:00.042  POST   /hooks/events                  415    0 ms  error unsupported_media_type  #b632503c");
    expect(lines.some((l) => l.includes("storage: D1_ERROR: Network connection lost."))).toBe(true);
    expect(lines.join("\n")).not.toMatch(/e2e-(event|inline)-hook-secret|e2e-admin-token/);
  });

  it("gives queue batches and cron runs a line, with failed attempts beneath and info lines only when verbose", () => {
    const queue = entries().filter((e) => e.kind === "queue").at(-1)!;
    expect(renderEntry(plain, queue)).toEqual([
      "09:30:01.163  queue  okta-hooks-edge-forward        2 messages  d1 6q 14r 4w",
      "               ↳ warn  delivery failed; will retry  eventUuid=5c7b3a2e-8f1d-4e6a-9b2c-1d0e3f4a5b6c destinationId=dst_01HZX9Q4 attempt=2 status=500 ms=118 error=HTTP 500 delaySeconds=14",
    ]);
    expect(renderEntry(plain, queue, { verbose: true })[2]).toContain("info  delivered");
    const cron = entries().find((e) => e.kind === "cron")!;
    expect(renderEntry(plain, cron)).toEqual(["09:30:00.056  cron   */5 * * * *  d1 3q 13r 0w"]);
  });

  it("shows an invocation that died before logging from what the runtime saw, with its exception", () => {
    const dead = entries().at(-1)!;
    expect(renderEntry(plain, dead)).toEqual([
      "09:30:01.168  POST   /hooks/events                  ---          [exception]",
      "               ↳ log some dependency printed this",
      "               ↳ exception Error: Worker exceeded memory limit.",
    ]);
  });

  it("escapes control characters from the record instead of sending them to the terminal", () => {
    expect(safe("a\u001b[2Jb\u0007\nc")).toBe("a\\u001b[2Jb\\u0007\\u000ac");
    const hostile = entryOf({
      outcome: "ok",
      logs: [{ level: "log", timestamp: 0, message: [JSON.stringify({ level: "error", msg: "request", method: "GET", route: "/x\u001b]0;pwned\u0007", status: 500, error: "e\u001b[31m" })] }],
    })!;
    const line = renderEntry(plain, hostile).join("\n");
    expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(line).toContain("/x\\u001b]0;pwned\\u0007");
  });

  it("colours statuses when asked", () => {
    const c = colors(true);
    const [line] = renderEntry(c, entries().find((e) => e.fields.status === 401)!);
    expect(line).toContain(c.yellow("401"));
  });
});

describe("filters and formats", () => {
  it("filters by route prefix, glob and status code, class or error", () => {
    const all = entries();
    expect(all.filter(routeFilter(["/hooks/inline"])).map((e) => e.fields.route)).toEqual([
      "/hooks/inline/token", "/hooks/inline/token", "/hooks/inline/registration", "/hooks/inline/registration", "/hooks/inline/telephony", "/hooks/inline/token",
    ]);
    expect(all.filter(routeFilter(["/admin/*"])).map((e) => e.fields.route)).toEqual(["/admin/api/rules"]);
    expect(all.filter(statusFilter(["4xx"])).map((e) => e.fields.status)).toEqual([401, 400, 401, 404, 415]);
    expect(all.filter(statusFilter(["503", "415"])).map((e) => e.fields.status)).toEqual([415, 503]);
    expect(all.filter(statusFilter(["error"])).map((e) => [e.fields.status, e.outcome])).toEqual([[503, "ok"], [undefined, "exception"]]);
    expect(() => statusMatcher("teapot")).toThrow('--status teapot: give a code (204), a class (4xx) or "error"');
  });

  it("writes one JSON object per line, with every field of our line, for grep and jq", () => {
    const json = entries().map(entryJson);
    expect(json.every((l) => !l.includes("\n"))).toBe(true);
    const inline = JSON.parse(json.find((l) => l.includes('"decision":"patch"'))!);
    expect(inline).toMatchObject({ kind: "request", outcome: "ok", route: "/hooks/inline/token", status: 200, decision: "patch", inlineType: "token" });
    expect(inline.decidedBy).toMatch(/^rules:[0-9a-f-]{36},[0-9a-f-]{36}$/);
    expect(inline.time).toBe("2026-11-24T09:30:00.105Z");
  });
});

describe("npm run tail", () => {
  it("renders a saved session given with --file, filtered", async () => {
    const { code, out, err } = await run(["--file", FIXTURE, "--status", "5xx", "--no-color"]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toEqual([
      "09:30:01.148  POST   /hooks/events                  503   31 ms  error storage_unavailable  storage: D1_ERROR: Network connection lost.  d1 1q 0r 0w  #9f8e7d6c",
    ]);
  });

  it("reads a pipe (wrangler tail --format json | npm run tail)", async () => {
    const { code, out } = await run(["--route", "/hooks/events", "--status", "204", "--format", "json"], session);
    expect(code).toBe(0);
    expect(out.map((l) => JSON.parse(l).duplicates)).toEqual([0, 0, 0, 1, 3]);
  });

  it("refuses a filter it cannot read, and a file it cannot open, with exit 2", async () => {
    expect((await run(["--file", FIXTURE, "--status", "okay"])).code).toBe(2);
    const missing = await run(["--file", "/nonexistent/tail.json"]);
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toMatch(/^tail: cannot read \/nonexistent\/tail\.json: ENOENT/);
  });

  it("runs wrangler tail --format json (with --env) when no input is given, and renders what it prints", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "fake-wrangler-"));
    const argsFile = path.join(dir, "args");
    // A stand-in for wrangler on PATH: records its arguments and prints the recorded session, as wrangler would.
    writeFileSync(path.join(dir, "wrangler"), `#!/bin/sh\necho "$@" > '${argsFile}'\ncat '${FIXTURE}'\n`);
    chmodSync(path.join(dir, "wrangler"), 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${oldPath ?? ""}`;
    try {
      const { code, out } = await run(["--env", "staging", "--status", "5xx", "--no-color"]);
      expect(code).toBe(0);
      expect(readFileSync(argsFile, "utf8").trim()).toBe("tail --format json --env staging");
      expect(out).toHaveLength(1);
      expect(out[0]).toContain("503   31 ms  error storage_unavailable");
    } finally {
      process.env.PATH = oldPath;
    }
  });
});
