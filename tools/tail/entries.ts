/**
 * What one tail record says about the gateway. A record is one Worker invocation as `wrangler tail --format json`
 * prints it (wrangler's TailEventMessage: `outcome`, `eventTimestamp`, `event` — a request, a cron or a queue
 * batch —, `logs[]` with each console call's arguments in `message`, and `exceptions[]`). The gateway writes one
 * JSON log line per request, queue batch and cron run (src/log.ts, src/http/request-context.ts, src/index.ts), which
 * arrives as an escaped string in `logs[].message[0]`; this module parses those lines back into fields and makes
 * one entry per invocation, with its other log lines (fan-out, failed attempts, fallbacks…) and exceptions beside it.
 */

export type Fields = Record<string, unknown>;

export interface LogLine {
  level: string;
  msg: string;
  fields: Fields;
  timestamp: number | null;
}

export interface Entry {
  kind: "request" | "queue" | "cron" | "other";
  /** Epoch ms: the summary line's timestamp, else the invocation's. */
  time: number | null;
  /** The summary line's fields ("request", "queue batch", "scheduled"), or what the record itself says. */
  fields: Fields;
  /** "ok", "exception", "exceededCpu"… as the runtime reported the invocation. */
  outcome: string;
  /** The invocation's other log lines of ours, in order. */
  details: LogLine[];
  /** Console output that is not one of our JSON lines, and uncaught exceptions, as text. */
  raw: Array<{ level: string; text: string }>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** One console call's arguments → our log line, if it is one. */
export function ourLogLine(message: unknown, level: string, timestamp: unknown): LogLine | null {
  const first = Array.isArray(message) ? message[0] : message;
  let parsed: unknown = first;
  if (typeof first === "string") {
    if (!first.trimStart().startsWith("{")) return null;
    try {
      parsed = JSON.parse(first);
    } catch {
      return null;
    }
  }
  if (!isObject(parsed) || typeof parsed.msg !== "string") return null;
  const { level: ownLevel, msg, ...fields } = parsed;
  return {
    level: typeof ownLevel === "string" ? ownLevel : level,
    msg,
    fields,
    timestamp: typeof timestamp === "number" ? timestamp : null,
  };
}

function text(message: unknown): string {
  const parts = Array.isArray(message) ? message : [message];
  return parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ");
}

const SUMMARY: Record<string, Entry["kind"]> = { request: "request", "queue batch": "queue", scheduled: "cron" };

/** The entry of one tail record, or null when it is not a tail record at all. */
export function entryOf(record: unknown): Entry | null {
  if (!isObject(record) || !("outcome" in record || "logs" in record || "event" in record)) return null;
  const logs = Array.isArray(record.logs) ? record.logs.filter(isObject) : [];
  const exceptions = Array.isArray(record.exceptions) ? record.exceptions.filter(isObject) : [];
  const event = isObject(record.event) ? record.event : {};
  const lines: LogLine[] = [];
  const raw: Entry["raw"] = [];
  for (const log of logs) {
    const level = typeof log.level === "string" ? log.level : "log";
    const line = ourLogLine(log.message, level, log.timestamp);
    if (line) lines.push(line);
    else raw.push({ level, text: text(log.message) });
  }
  for (const e of exceptions) raw.push({ level: "exception", text: `${String(e.name ?? "Error")}: ${typeof e.message === "string" ? e.message : JSON.stringify(e.message)}` });

  const summary = lines.find((l) => SUMMARY[l.msg] !== undefined);
  const details = lines.filter((l) => l !== summary);
  const outcome = typeof record.outcome === "string" ? record.outcome : "unknown";
  const eventTime = typeof record.eventTimestamp === "number" ? record.eventTimestamp : null;
  if (summary) {
    return { kind: SUMMARY[summary.msg]!, time: summary.timestamp ?? eventTime, fields: summary.fields, outcome, details, raw };
  }
  // No summary line: the invocation failed before writing it (an exception, CPU or memory limit). Say what the
  // runtime saw.
  const request = isObject(event.request) ? event.request : undefined;
  if (request) {
    const url = typeof request.url === "string" ? request.url : "";
    let route = url;
    try {
      route = new URL(url).pathname;
    } catch {
      // keep it as given
    }
    const response = isObject(event.response) ? event.response : {};
    return {
      kind: "request",
      time: eventTime,
      fields: { method: request.method, route, ...(typeof response.status === "number" ? { status: response.status } : {}) },
      outcome,
      details,
      raw,
    };
  }
  if (typeof event.cron === "string") return { kind: "cron", time: eventTime, fields: { cron: event.cron }, outcome, details, raw };
  if (typeof event.queue === "string") {
    return { kind: "queue", time: eventTime, fields: { queue: event.queue, messages: event.batchSize }, outcome, details, raw };
  }
  return { kind: "other", time: eventTime, fields: {}, outcome, details, raw };
}
