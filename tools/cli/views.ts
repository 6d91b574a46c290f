/**
 * How the CLI shows each answer of the admin API to a person: tables for lists, `label: value` blocks for one
 * thing. Pure functions of the answer and the colours, so the tests render them exactly (test/tools/cli.test.ts).
 */
import type { Colors } from "../colors.ts";
import type {
  DeadLetter,
  DeadLetterDetail,
  Delivery,
  DeliveryStats,
  Destination,
  DryRun,
  EventDetail,
  EventStats,
  EventSummary,
  InlineCall,
  InlineStats,
  ReplayJob,
  RotatedSecret,
  Rule,
  StatsOverview,
} from "./api-types.ts";
import { fields, jsonText, shortTime, table, type Column } from "./table.ts";

const stateColor = (c: Colors) => (text: string) => {
  const state = text.trim();
  if (["active", "delivered", "finished", "fanned_out", "SUCCESS", "yes"].includes(state)) return c.green;
  if (["dead", "disabled", "FAILURE", "DENY", "cancelled"].includes(state)) return c.red;
  if (["paused", "waiting", "failed", "pending", "running", "unrouted", "skipped"].includes(state)) return c.yellow;
  return undefined;
};

// ---- destinations ----

export function destinationsTable(destinations: readonly Destination[], c: Colors): string {
  if (destinations.length === 0) return c.dim("No destinations.");
  const columns: Array<Column<Destination>> = [
    { header: "ID", value: (d) => d.id },
    { header: "NAME", value: (d) => d.name, max: 30 },
    { header: "STATE", value: (d) => d.state, color: stateColor(c) },
    { header: "FORMAT", value: (d) => d.format },
    { header: "EVENT TYPES", value: (d) => d.eventTypes.join(","), max: 40 },
    { header: "FAILURES", value: (d) => d.consecutiveFailures, align: "right" },
    { header: "URL", value: (d) => d.url, max: 60 },
  ];
  return table(destinations, columns, c);
}

export function destinationDetail(d: Destination, c: Colors): string {
  const conditions = Object.entries(d.conditions)
    .map(([name, values]) => `${name}=${(values as string[]).join(",")}`)
    .join(" ");
  const text = fields(
    [
      ["id", d.id],
      ["name", d.name],
      ["url", d.url],
      ["state", d.disabledReason ? `${d.state} (${d.disabledReason})` : d.state],
      ["format", d.format],
      ["event types", d.eventTypes.join(", ")],
      ["conditions", conditions || null],
      ...(d.oktaAuth ? ([["okta auth header", `${d.oktaAuth.header} (value ${d.oktaAuth.valueSet ? "set" : "missing"})`]] as const) : []),
      ["timeout", `${d.timeoutMs} ms`],
      ["consecutive failures", d.consecutiveFailures],
      ["previous secret until", shortTime(d.previousSecretExpiresAt)],
      ["created", shortTime(d.createdAt)],
      ["updated", shortTime(d.updatedAt)],
    ],
    c,
  );
  if (d.secret === undefined) return text;
  return `${text}\n\n${c.bold("signing secret:")} ${d.secret}\n${c.yellow("Shown this once: store it with the receiver now.")}`;
}

export function rotatedSecret(r: RotatedSecret, c: Colors): string {
  const previous = r.previousSecretExpiresAt
    ? `The previous secret keeps signing until ${shortTime(r.previousSecretExpiresAt)}.`
    : "The previous secret no longer signs.";
  return `${c.bold("new signing secret:")} ${r.secret}\n${c.yellow("Shown this once: store it with the receiver now.")} ${previous}`;
}

// ---- events ----

export function eventsTable(events: readonly EventSummary[], c: Colors): string {
  if (events.length === 0) return c.dim("No events on this page.");
  const columns: Array<Column<EventSummary>> = [
    { header: "PUBLISHED", value: (e) => shortTime(e.published) },
    { header: "TYPE", value: (e) => e.eventType, max: 44 },
    { header: "OUTCOME", value: (e) => e.outcomeResult, color: stateColor(c) },
    { header: "ACTOR", value: (e) => e.actorAlternateId ?? e.actorId, max: 32 },
    { header: "FORWARD", value: (e) => e.forwardState, color: stateColor(c) },
    { header: "UUID", value: (e) => e.uuid },
  ];
  return table(events, columns, c);
}

export function deliveriesTable(deliveries: readonly Delivery[], c: Colors): string {
  if (deliveries.length === 0) return c.dim("No deliveries.");
  const columns: Array<Column<Delivery>> = [
    { header: "DESTINATION", value: (d) => d.destinationName ?? d.destinationId, max: 30 },
    { header: "STATE", value: (d) => d.state, color: stateColor(c) },
    { header: "ATTEMPTS", value: (d) => d.attempts, align: "right" },
    { header: "LAST STATUS", value: (d) => d.lastStatus, align: "right" },
    { header: "NEXT ATTEMPT", value: (d) => shortTime(d.nextAttemptAt) },
    { header: "LAST ERROR", value: (d) => d.lastError, max: 50 },
    { header: "JOB", value: (d) => d.jobId },
  ];
  return table(deliveries, columns, c);
}

export function eventDetail(e: EventDetail, c: Colors, options: { payload?: boolean } = {}): string {
  const head = fields(
    [
      ["uuid", e.uuid],
      ["type", e.eventType],
      ["published", shortTime(e.published)],
      ["received", shortTime(e.receivedAt)],
      ["actor", [e.actorAlternateId, e.actorId].filter(Boolean).join(" ") || null],
      ["outcome", e.outcomeResult],
      ["severity", e.severity],
      ["org", e.oktaOrg],
      ["forward state", e.forwardState],
      ["event hook", e.eventHookId],
    ],
    c,
  );
  const parts = [head, "", c.bold("Deliveries"), deliveriesTable(e.deliveries, c)];
  if (options.payload) parts.push("", c.bold("Payload (Okta's event)"), jsonText(e.payload));
  return parts.join("\n");
}

// ---- replays ----

export function dryRunView(d: DryRun, c: Colors): string {
  const lines = [`${c.bold(String(d.events))} event${d.events === 1 ? "" : "s"} match${d.events === 1 ? "es" : ""}; nothing was sent (dry run).`];
  if (!d.complete) lines.push(c.yellow("The range is too large to count whole: these counts cover its newest 1,000,000 events."));
  if (d.destinations.length === 0) lines.push(c.dim("No destination would receive them."));
  else {
    lines.push(
      table(
        d.destinations,
        [
          { header: "DESTINATION", value: (x) => x.destinationId },
          { header: "NAME", value: (x) => x.name, max: 30 },
          { header: "EVENTS", value: (x) => (x.exact ? x.events : `≤${x.events}`), align: "right" },
        ],
        c,
      ),
    );
    if (d.destinations.some((x) => !x.exact)) lines.push(c.dim("≤: the destination has actor or target conditions, judged on each event when it is sent."));
  }
  return lines.join("\n");
}

export function jobLine(job: ReplayJob): string {
  const p = job.progress;
  const scanned = p.scanned === null ? "" : `, scanned ${Math.round(p.scanned * 100)}%`;
  return `${job.id} ${job.state}: ${p.enqueued}/${p.matched} enqueued, ${p.delivered} delivered, ${p.failed} failed, ${p.skipped} skipped${scanned}`;
}

export function jobDetail(job: ReplayJob, c: Colors): string {
  const selection = job.eventUuid
    ? `event ${job.eventUuid}`
    : job.filter
      ? Object.entries(job.filter)
          .filter(([, v]) => v !== null)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ") || "every event"
      : "dead letters";
  return fields(
    [
      ["id", job.id],
      ["kind", job.kind],
      ["state", job.state],
      ["selection", selection],
      ["destination", job.destinationId ?? "every matching destination"],
      ["rate", `${job.ratePerSecond}/s`],
      ["matched", job.progress.matched],
      ["enqueued", job.progress.enqueued],
      ["skipped (in progress)", job.progress.skipped],
      ["delivered", job.progress.delivered],
      ["failed", job.progress.failed],
      ["scanned", job.progress.scanned === null ? null : `${Math.round(job.progress.scanned * 100)}%`],
      ["created", shortTime(job.createdAt)],
      ["finished", shortTime(job.finishedAt)],
    ],
    c,
  );
}

export function jobsTable(jobs: readonly ReplayJob[], c: Colors): string {
  if (jobs.length === 0) return c.dim("No replay or redrive jobs.");
  return table(
    jobs,
    [
      { header: "ID", value: (j) => j.id },
      { header: "KIND", value: (j) => j.kind },
      { header: "STATE", value: (j) => j.state, color: stateColor(c) },
      { header: "MATCHED", value: (j) => j.progress.matched, align: "right" },
      { header: "ENQUEUED", value: (j) => j.progress.enqueued, align: "right" },
      { header: "DELIVERED", value: (j) => j.progress.delivered, align: "right" },
      { header: "FAILED", value: (j) => j.progress.failed, align: "right" },
      { header: "CREATED", value: (j) => shortTime(j.createdAt) },
    ],
    c,
  );
}

// ---- dead letters ----

export function deadLettersTable(letters: readonly DeadLetter[], c: Colors): string {
  if (letters.length === 0) return c.dim("No dead letters.");
  return table(
    letters,
    [
      { header: "RECORDED", value: (l) => shortTime(l.recordedAt) },
      { header: "DESTINATION", value: (l) => l.destinationName ?? l.destinationId, max: 30 },
      { header: "EVENT TYPE", value: (l) => l.eventType, max: 40 },
      { header: "ATTEMPTS", value: (l) => l.attempts, align: "right" },
      { header: "REASON", value: (l) => l.reason, max: 50 },
      { header: "EVENT UUID", value: (l) => l.eventUuid },
    ],
    c,
  );
}

export function deadLetterDetail(l: DeadLetterDetail, c: Colors): string {
  const head = fields(
    [
      ["destination", l.destinationName ? `${l.destinationName} (${l.destinationId})` : l.destinationId],
      ["event", l.eventUuid],
      ["event type", l.eventType],
      ["event forward state", l.event?.forwardState ?? "no longer stored"],
      ["reason", l.reason],
      ["attempts", l.attempts],
      ["recorded", shortTime(l.recordedAt)],
    ],
    c,
  );
  const attempts = l.deliveries.flatMap((d) => d.attemptLog.map((a) => ({ ...a, destination: d.destinationName ?? d.destinationId })));
  const log =
    attempts.length === 0
      ? c.dim("No attempts recorded.")
      : table(
          attempts,
          [
            { header: "AT", value: (a) => shortTime(a.attemptedAt) },
            { header: "DESTINATION", value: (a) => a.destination, max: 30 },
            { header: "#", value: (a) => a.attempt, align: "right" },
            { header: "OUTCOME", value: (a) => a.outcome, color: stateColor(c) },
            { header: "STATUS", value: (a) => a.status, align: "right" },
            { header: "MS", value: (a) => a.latencyMs, align: "right" },
            { header: "ERROR", value: (a) => a.error, max: 60 },
          ],
          c,
        );
  return [head, "", c.bold("Attempts"), log].join("\n");
}

// ---- rules ----

export function rulesTable(rules: readonly Rule[], c: Colors): string {
  if (rules.length === 0) return c.dim("No rules.");
  return table(
    rules,
    [
      { header: "ID", value: (r) => r.id },
      { header: "HOOK", value: (r) => r.hookType },
      { header: "KIND", value: (r) => r.kind },
      { header: "PRIORITY", value: (r) => r.priority, align: "right" },
      { header: "ENABLED", value: (r) => (r.enabled ? "yes" : "no"), color: stateColor(c) },
      { header: "NAME", value: (r) => r.name, max: 40 },
    ],
    c,
  );
}

// ---- stats ----

const mb = (bytes: number | null) => (bytes === null ? null : `${(bytes / 1_000_000).toFixed(1)} MB`);

export function statsOverview(s: StatsOverview, c: Colors): string {
  const days = (n: number) => (n === 0 ? "kept forever" : `${n} days`);
  return fields(
    [
      ["D1 size", s.d1.sizeBytes === null ? "unknown" : `${mb(s.d1.sizeBytes)} of ${mb(s.d1.limitBytes)} (${s.d1.usedPercent}%)`],
      ["events received, last 24 h", s.events.receivedLast24Hours],
      ["oldest event stored", shortTime(s.events.oldestReceivedAt)],
      ["newest event stored", shortTime(s.events.newestReceivedAt)],
      ["outbox (not yet fanned out)", `${s.outbox.batches} deliveries${s.outbox.oldestCreatedAt ? `, oldest ${shortTime(s.outbox.oldestCreatedAt)}` : ""}`],
      ["retention: events", days(s.retention.eventDays)],
      ["retention: dead letters", days(s.retention.deadLetterDays)],
      ["retention: inline calls", days(s.retention.inlineCallDays)],
      ["archive to R2", s.retention.archive ? "on" : "off"],
    ],
    c,
  );
}

export function eventStatsView(s: EventStats, c: Colors): string {
  const head = `${c.bold(String(s.total))} events received from ${shortTime(s.since)} to ${shortTime(s.until)} (by ${s.bucket})`;
  if (s.eventTypes.length === 0) return head;
  return `${head}\n${table(
    s.eventTypes,
    [
      { header: "TYPE", value: (t) => t.eventType, max: 60 },
      { header: "COUNT", value: (t) => t.count, align: "right" },
    ],
    c,
  )}`;
}

export function deliveryStatsView(s: DeliveryStats, c: Colors): string {
  const head = `Deliveries from ${shortTime(s.since)} to ${shortTime(s.until)}`;
  if (s.destinations.length === 0) return `${head}\n${c.dim("No destinations.")}`;
  return `${head}\n${table(
    s.destinations,
    [
      { header: "DESTINATION", value: (d) => d.destinationName ?? d.destinationId, max: 30 },
      { header: "STATE", value: (d) => d.state, color: stateColor(c) },
      { header: "DELIVERED", value: (d) => d.delivered, align: "right" },
      { header: "DEAD", value: (d) => d.dead, align: "right" },
      { header: "RETRYING", value: (d) => d.retrying, align: "right" },
      { header: "WAITING", value: (d) => d.waiting, align: "right" },
      { header: "SUCCESS", value: (d) => (d.successRate === null ? null : `${(d.successRate * 100).toFixed(1)}%`), align: "right" },
      { header: "P50 MS", value: (d) => d.latencyMs?.p50, align: "right" },
      { header: "P95 MS", value: (d) => d.latencyMs?.p95, align: "right" },
    ],
    c,
  )}`;
}

// ---- inline hook calls ----

export function inlineCallsTable(calls: readonly InlineCall[], c: Colors): string {
  if (calls.length === 0) return c.dim("No inline hook calls.");
  return table(
    calls,
    [
      { header: "RECEIVED", value: (x) => shortTime(x.receivedAt) },
      { header: "TYPE", value: (x) => x.type },
      { header: "DECISION", value: (x) => x.decision, color: stateColor(c), max: 24 },
      { header: "DECIDED BY", value: (x) => x.decidedBy, max: 40 },
      { header: "FALLBACK", value: (x) => x.fallbackReason, color: (t) => (t.trim() === "-" ? undefined : c.yellow) },
      { header: "STATUS", value: (x) => x.status, align: "right" },
      { header: "MS", value: (x) => x.latencyMs, align: "right" },
      { header: "OKTA REQUEST ID", value: (x) => x.oktaRequestId, max: 40 },
    ],
    c,
  );
}

/** `DENY 2, empty 1` from counts named by `key`. */
function tally<K extends string>(entries: ReadonlyArray<Record<K, string> & { count: number }>, key: K): string {
  return entries.map((e) => `${e[key]} ${e.count}`).join(", ");
}

export function inlineStatsView(s: InlineStats, c: Colors): string {
  const head = `Inline hook calls from ${shortTime(s.since)} to ${shortTime(s.until)}`;
  const body = table(
    s.types,
    [
      { header: "TYPE", value: (t) => t.type },
      { header: "CALLS", value: (t) => (t.complete ? t.calls : `${t.calls}+`), align: "right" },
      { header: "DECISIONS", value: (t) => tally(t.decisions, "decision"), max: 40 },
      { header: "DECIDED BY", value: (t) => tally(t.decidedBy, "group"), max: 40 },
      { header: "FALLBACKS", value: (t) => tally(t.fallbacks, "reason"), max: 40 },
      { header: "P50 MS", value: (t) => t.latencyMs?.p50, align: "right" },
      { header: "P95 MS", value: (t) => t.latencyMs?.p95, align: "right" },
      { header: "P99 MS", value: (t) => t.latencyMs?.p99, align: "right" },
    ],
    c,
  );
  const partial = s.types.filter((t) => !t.complete);
  const note = partial.length === 0 ? "" : `\n${c.dim(`+ the newest calls only (${partial.map((t) => `${t.type} since ${shortTime(t.oldestCall)}`).join(", ")}): narrow --since/--until for all of them`)}`;
  return `${head}\n${body}${note}`;
}
