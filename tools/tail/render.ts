/**
 * One line per invocation, for people: time (UTC), method and route, status, ms, then what the request did —
 * events stored and duplicates, the inline hook decision (and who decided, and any fallback), the error code or
 * the auth refusal, what D1 charged — and the request id to find it again. The invocation's warnings and errors
 * (a failed delivery attempt, a fallback's reason, an exception) follow, indented. Or, with `--format json`, one
 * compact JSON object per invocation, which `grep` and `jq` can read line by line.
 *
 * Every string from a record is printed with control characters escaped: a route or an error message may hold
 * what a caller sent, and must not drive the terminal.
 */
import type { Colors } from "../colors.ts";
import type { Entry, Fields, LogLine } from "./entries.ts";

/** C0/C1 control characters other than tab, shown as \u00XX (as wrangler's own pretty printer does). */
export function safe(value: unknown): string {
  const s = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function clock(time: number | null): string {
  if (time === null || !Number.isFinite(time)) return "--:--:--.---";
  return new Date(time).toISOString().slice(11, 23);
}

function statusText(c: Colors, status: unknown): string {
  if (typeof status !== "number") return c.dim("---");
  const s = String(status);
  if (status >= 500) return c.red(c.bold(s));
  if (status >= 400) return c.yellow(s);
  if (status >= 300) return c.cyan(s);
  return c.green(s);
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** "rules:<id>,<id>" → "2 rules" (the ids are in --format json); "repeat:handler" and the rest as they are. */
function decider(decidedBy: string): string {
  const rules = /^(repeat:)?rules:(.*)$/.exec(decidedBy);
  if (!rules) return safe(decidedBy);
  const n = rules[2]!.split(",").filter(Boolean).length;
  return `${rules[1] ?? ""}${n} rule${n === 1 ? "" : "s"}`;
}

function requestSummary(c: Colors, f: Fields): string[] {
  const parts: string[] = [];
  if (num(f.events) !== undefined) {
    let s = `events ${f.events} stored ${f.stored ?? 0} dup ${f.duplicates ?? 0}`;
    if ((num(f.skipped) ?? 0) > 0) s += ` skipped ${f.skipped}`;
    parts.push(s);
  }
  if (f.verification === true) parts.push("verification");
  if (typeof f.inlineType === "string") {
    let s = `${safe(f.inlineType)} → ${c.cyan(safe(f.decision ?? "?"))}`;
    if (typeof f.decidedBy === "string") s += c.dim(` by ${decider(f.decidedBy)}`);
    parts.push(s);
    if (f.fallback !== undefined) parts.push(c.yellow(`fallback ${safe(f.fallback)}`));
  }
  if (f.error !== undefined) parts.push(c.red(`error ${safe(f.error)}`));
  // "secret" and "oauth" say how a caller got in; anything else (missing, mismatch, oauth:<reason>) why it did not.
  if (f.auth !== undefined && f.auth !== "secret" && f.auth !== "oauth") parts.push(c.yellow(`auth ${safe(f.auth)}`));
  if (f.problem !== undefined) parts.push(c.yellow(safe(f.problem)));
  if (f.storageError !== undefined) parts.push(c.red(`storage: ${safe(f.storageError)}`));
  return parts;
}

function d1Cost(c: Colors, f: Fields): string | undefined {
  if (num(f.d1Queries) === undefined) return undefined;
  return c.dim(`d1 ${f.d1Queries}q ${f.d1RowsRead ?? 0}r ${f.d1RowsWritten ?? 0}w`);
}

function detailLine(c: Colors, line: LogLine): string {
  const level = line.level === "error" ? c.red("error") : line.level === "warn" ? c.yellow("warn ") : c.dim(line.level.padEnd(5));
  const fields = Object.entries(line.fields)
    .filter(([k, v]) => k !== "requestId" && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${safe(v)}`)
    .join(" ");
  return `               ↳ ${level} ${safe(line.msg)}${fields ? c.dim(`  ${fields}`) : ""}`;
}

export interface RenderOptions {
  /** Also the info-level detail lines (fan-out, delivered…). */
  verbose?: boolean;
}

/** The lines of one entry, pretty. */
export function renderEntry(c: Colors, entry: Entry, options: RenderOptions = {}): string[] {
  const f = entry.fields;
  const time = c.dim(clock(entry.time));
  const parts: string[] = [];
  if (entry.kind === "request") {
    const method = safe(f.method ?? "?").padEnd(6);
    const route = safe(f.route ?? "?").padEnd(30);
    const ms = num(f.ms);
    const msText = ms === undefined ? "".padStart(7) : `${ms} ms`.padStart(7);
    parts.push(`${method} ${route} ${statusText(c, f.status)} ${ms !== undefined && ms >= 1000 ? c.yellow(msText) : c.dim(msText)}`);
    parts.push(...requestSummary(c, f));
  } else if (entry.kind === "queue") {
    parts.push(`${"queue".padEnd(6)} ${safe(f.queue ?? "?").padEnd(30)} ${c.dim(`${f.messages ?? "?"} message${f.messages === 1 ? "" : "s"}`)}`);
  } else if (entry.kind === "cron") {
    parts.push(`${"cron".padEnd(6)} ${safe(f.cron ?? "?")}`);
  } else {
    parts.push("(an invocation with no request, queue or cron)");
  }
  const cost = d1Cost(c, f);
  if (cost) parts.push(cost);
  if (entry.outcome !== "ok" && entry.outcome !== "unknown") parts.push(c.red(c.bold(`[${safe(entry.outcome)}]`)));
  if (typeof f.requestId === "string") parts.push(c.dim(`#${safe(f.requestId.slice(0, 8))}`));

  const lines = [`${time}  ${parts.join("  ")}`];
  for (const d of entry.details) {
    if (options.verbose || d.level === "warn" || d.level === "error") lines.push(detailLine(c, d));
  }
  for (const r of entry.raw) {
    const text = `               ↳ ${r.level === "exception" ? "exception" : r.level} ${safe(r.text)}`;
    lines.push(r.level === "exception" || r.level === "error" ? c.red(text) : c.dim(text));
  }
  return lines;
}

/** One entry as one compact JSON line: our fields, plus time, kind and outcome. */
export function entryJson(entry: Entry): string {
  const { level: _level, ...fields } = entry.fields as Fields & { level?: unknown };
  const out: Record<string, unknown> = {
    time: entry.time === null ? null : new Date(entry.time).toISOString(),
    kind: entry.kind,
    outcome: entry.outcome,
    ...fields,
  };
  if (entry.details.length > 0) out.details = entry.details.map((d) => ({ level: d.level, msg: d.msg, ...d.fields }));
  if (entry.raw.length > 0) out.console = entry.raw;
  return JSON.stringify(out);
}
