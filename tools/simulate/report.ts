/**
 * The simulator's report: one line per request (✔ or ✖, what it was, status, time, and for inline hooks what was
 * decided), the findings under it, and a closing summary that says whether Okta would have rejected anything.
 * Text for people (coloured unless NO_COLOR or not a terminal, as picocolors decides), JSON for scripts.
 */
import type { Colors } from "../colors.ts";
import type { Finding } from "./contract/findings.ts";
import type { RunResult, StepResult } from "./run.ts";
import type { Scenario } from "./scenarios.ts";

export function scenarioHeading(c: Colors, scenario: Scenario): string {
  return `\n${c.bold(scenario.name)} ${c.dim(scenario.description)}`;
}

function finding(c: Colors, f: Finding): string {
  return f.severity === "error" ? `      ${c.red("✖")} ${c.red(f.message)}` : `      ${c.yellow("!")} ${c.yellow(f.message)}`;
}

export function stepLine(c: Colors, r: StepResult): string {
  const failed = r.findings.some((f) => f.severity === "error");
  const mark = failed ? c.red("✖") : c.green("✔");
  const status = r.status === 0 ? c.red("---") : r.status >= 400 ? c.red(String(r.status)) : String(r.status);
  const ms = `${r.ms} ms`.padStart(8);
  const decision = r.decision ? `  ${c.cyan(r.decision)}` : "";
  const lines = [`  ${mark} ${r.label.padEnd(60)} ${status.padStart(3)} ${c.dim(ms)}${decision}`];
  for (const f of r.findings) lines.push(finding(c, f));
  return lines.join("\n");
}

export function summaryLines(c: Colors, run: RunResult): string[] {
  const failed = run.results.filter((r) => r.findings.some((f) => f.severity === "error")).length;
  const lines = [
    "",
    `${run.results.length} requests: ${run.results.length - failed} passed, ${failed} failed` +
      ` (${run.errors} error${run.errors === 1 ? "" : "s"}, ${run.warnings} warning${run.warnings === 1 ? "" : "s"}).`,
  ];
  if (run.eventsSent > 0) {
    lines.push(`${run.eventsSent} events delivered, ${run.distinctEvents} distinct (the rest are Okta's duplicates and retry).`);
  }
  lines.push(
    failed === 0
      ? c.green(c.bold("Okta would accept every answer."))
      : c.red(c.bold(`Okta would reject ${failed} answer${failed === 1 ? "" : "s"}: see ✖ above.`)),
  );
  return lines;
}

/** The run as JSON: every step (paths, statuses, times, findings — no bodies, no secrets) and the totals. */
export function jsonReport(run: RunResult, meta: Record<string, unknown>): string {
  return JSON.stringify({ ...meta, ...run }, null, 2);
}
