// Reading the gateway's own structured log lines (one JSON object per line, src/log.ts) out of what `wrangler dev`
// printed: the per-request `ms` and what D1 reported each request, queue batch and cron run cost.

/** Every JSON log line in `text` (wrangler's own output between them is skipped). */
export function logLines(text) {
  const lines = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line));
    } catch {
      // a line that only looks like JSON
    }
  }
  return lines;
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Request lines of one route: in-Worker ms quantiles (and of the time waiting for D1), D1's row counts per request and per stored event. */
export function requestCost(lines, { method, route }) {
  const own = lines.filter((l) => l.msg === "request" && l.method === method && l.route === route && typeof l.ms === "number");
  const ms = own.map((l) => l.ms).sort((a, b) => a - b);
  const sum = (f) => own.reduce((n, l) => n + (l[f] ?? 0), 0);
  const d1Ms = own.map((l) => l.d1Ms ?? 0).sort((a, b) => a - b);
  return {
    requests: own.length,
    msP50: quantile(ms, 0.5),
    msP99: quantile(ms, 0.99),
    d1MsP50: quantile(d1Ms, 0.5),
    d1MsP99: quantile(d1Ms, 0.99),
    rowsReadPerRequest: own.length ? sum("d1RowsRead") / own.length : null,
    rowsWrittenPerRequest: own.length ? sum("d1RowsWritten") / own.length : null,
    storedEvents: sum("stored"),
    rowsWritten: sum("d1RowsWritten"),
    rowsRead: sum("d1RowsRead"),
  };
}

/** What D1 reported for every event POST, queue batch and cron run in `lines`, and the queue messages consumed. */
export function forwardingCost(lines) {
  let rowsWritten = 0;
  let rowsRead = 0;
  let messages = 0;
  let stored = 0;
  for (const l of lines) {
    const isIngest = l.msg === "request" && l.route === "/hooks/events" && l.method === "POST";
    if (isIngest) stored += l.stored ?? 0;
    if (isIngest || l.msg === "queue batch" || l.msg === "scheduled") {
      rowsWritten += l.d1RowsWritten ?? 0;
      rowsRead += l.d1RowsRead ?? 0;
    }
    if (l.msg === "queue batch") messages += l.messages ?? 0;
  }
  return { rowsWritten, rowsRead, messages, stored };
}
