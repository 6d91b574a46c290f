/**
 * Turns the gateway's log lines as `wrangler dev` prints them (one JSON line per console call, warnings wrapped in
 * wrangler's coloured "▲ [WARNING]" prefix) into the records `wrangler tail --format json` prints for the deployed
 * Worker: wrangler's TailEventMessage (packages/wrangler/src/tail/createTail.ts in cloudflare/workers-sdk), one per
 * invocation, the console call's text in `logs[].message[0]`, each written as `JSON.stringify(record, null, 4)`.
 *
 * Invocations are told apart as the gateway writes them: a request's lines share its `requestId` and end with its
 * "request" line; a queue batch's or cron run's lines carry no request id and end with "queue batch" / "scheduled".
 */

export interface TailRecord {
  outcome: string;
  scriptName: string;
  exceptions: Array<{ name: string; message: unknown; timestamp: number }>;
  logs: Array<{ message: unknown[]; level: string; timestamp: number }>;
  eventTimestamp: number;
  event: Record<string, unknown> | null;
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** Our JSON log lines in wrangler dev's output, in order, as the exact text the Worker logged. */
export function devLogLines(output: string): string[] {
  const lines: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.replace(ANSI, "");
    const start = line.indexOf('{"level":');
    const end = line.lastIndexOf("}");
    if (start < 0 || end < start) continue;
    const text = line.slice(start, end + 1);
    try {
      const parsed = JSON.parse(text) as { msg?: unknown };
      if (typeof parsed.msg === "string") lines.push(text);
    } catch {
      // not one of ours
    }
  }
  return lines;
}

const consoleLevel = (level: unknown) => (level === "error" ? "error" : level === "warn" ? "warn" : "log");

export function tailRecords(lines: readonly string[], options: { scriptName?: string; host?: string; start?: number } = {}): TailRecord[] {
  const scriptName = options.scriptName ?? "okta-hooks-edge";
  const host = options.host ?? "okta-hooks-edge.acme.workers.dev";
  let clock = options.start ?? Date.UTC(2026, 10, 24, 9, 30, 0);
  const records: TailRecord[] = [];
  const byRequest = new Map<string, TailRecord["logs"]>();
  let unattached: TailRecord["logs"] = [];

  for (const text of lines) {
    const line = JSON.parse(text) as Record<string, unknown>;
    clock += 7;
    const log = { message: [text], level: consoleLevel(line.level), timestamp: clock };
    const requestId = typeof line.requestId === "string" ? line.requestId : undefined;
    if (line.msg === "request" && requestId) {
      const logs = [...(byRequest.get(requestId) ?? []), log];
      byRequest.delete(requestId);
      const started = logs[0]!.timestamp - (typeof line.ms === "number" ? line.ms : 0);
      records.push({
        outcome: "ok",
        scriptName,
        exceptions: [],
        logs,
        eventTimestamp: started,
        event: {
          request: {
            url: `https://${host}${String(line.route)}`,
            method: line.method,
            headers: { "content-type": "application/json", "user-agent": "Okta-Integrations" },
            cf: { colo: "SJC", country: "US", asn: 64496, httpProtocol: "HTTP/1.1", tlsVersion: "TLSv1.3", tlsCipher: "AEAD-AES128-GCM-SHA256" },
          },
          response: { status: line.status },
        },
      });
    } else if (requestId) {
      byRequest.set(requestId, [...(byRequest.get(requestId) ?? []), log]);
    } else if (line.msg === "queue batch" || line.msg === "scheduled") {
      const logs = [...unattached, log];
      unattached = [];
      const event = line.msg === "queue batch" ? { queue: line.queue, batchSize: line.messages } : { cron: line.cron, scheduledTime: logs[0]!.timestamp };
      records.push({ outcome: "ok", scriptName, exceptions: [], logs, eventTimestamp: logs[0]!.timestamp, event });
    } else {
      unattached.push(log);
    }
  }
  return records;
}

/** The records as `wrangler tail --format json` writes them. */
export function tailOutput(records: readonly TailRecord[]): string {
  return records.map((r) => `${JSON.stringify(r, null, 4)}\n`).join("");
}
