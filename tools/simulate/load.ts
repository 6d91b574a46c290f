/**
 * `--load N`: a bounded soak. N requests (at most), `concurrency` at a time, stopping early at the time bound;
 * the requests are the selected scenarios' steps taken in turn, freshly generated as they run out (new events
 * every time, so deliveries keep storing). Every answer is checked against Okta's contract as in a normal run;
 * the report gives p50/p99 per scenario and every distinct problem with its count.
 */
import type { Colors } from "../colors.ts";
import { runStep, type StepResult } from "./run.ts";
import type { Scenario, ScenarioContext, Step } from "./scenarios.ts";

export const MAX_LOAD_REQUESTS = 100_000;
export const MAX_CONCURRENCY = 64;
export const MAX_DURATION_SECONDS = 600;

export interface LoadOptions {
  requests: number;
  concurrency: number;
  durationSeconds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  stoppedByTime: boolean;
  failed: number;
  /** Percentiles over every request, and per scenario, in ms. */
  latency: Latency;
  byScenario: Record<string, Latency & { requests: number; failed: number }>;
  /** Each distinct error message and how often it was seen. */
  problems: Array<{ message: string; count: number }>;
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 };
}

/** Steps of the scenarios in turn, generated again whenever a scenario's run out. */
function stepSource(scenarios: readonly Scenario[], ctx: ScenarioContext): () => Step {
  const buffers = new Map<Scenario, Step[]>();
  let turn = 0;
  return () => {
    const scenario = scenarios[turn++ % scenarios.length]!;
    let buffer = buffers.get(scenario);
    if (!buffer || buffer.length === 0) {
      buffer = scenario.steps({ ...ctx, now: Date.now() });
      buffers.set(scenario, buffer);
    }
    return buffer.shift()!;
  };
}

export async function runLoad(scenarios: readonly Scenario[], ctx: ScenarioContext, options: LoadOptions): Promise<LoadResult> {
  const requests = Math.min(options.requests, MAX_LOAD_REQUESTS);
  const concurrency = Math.min(options.concurrency, MAX_CONCURRENCY, requests);
  const deadline = Date.now() + Math.min(options.durationSeconds, MAX_DURATION_SECONDS) * 1000;
  const next = stepSource(scenarios, ctx);
  const results: StepResult[] = [];
  const started = Date.now();
  let issued = 0;
  let stoppedByTime = false;

  async function worker(): Promise<void> {
    while (issued < requests) {
      if (Date.now() >= deadline) {
        stoppedByTime = true;
        return;
      }
      issued++;
      results.push(await runStep(next()));
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));

  const failedOf = (rs: StepResult[]) => rs.filter((r) => r.findings.some((f) => f.severity === "error")).length;
  const byScenario: LoadResult["byScenario"] = {};
  for (const scenario of scenarios) {
    const rs = results.filter((r) => r.scenario === scenario.name);
    if (rs.length > 0) byScenario[scenario.name] = { requests: rs.length, failed: failedOf(rs), ...latency(rs.map((r) => r.ms)) };
  }
  const counts = new Map<string, number>();
  for (const f of results.flatMap((r) => r.findings.filter((x) => x.severity === "error").map((x) => `${r.scenario}: ${x.message}`))) {
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  return {
    requests: results.length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    stoppedByTime,
    failed: failedOf(results),
    latency: latency(results.map((r) => r.ms)),
    byScenario,
    problems: [...counts].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count),
  };
}

export function loadReport(c: Colors, load: LoadResult, options: LoadOptions): string[] {
  const rate = load.seconds > 0 ? Math.round(load.requests / load.seconds) : load.requests;
  const lines = [
    "",
    `${load.requests} requests in ${load.seconds} s (${rate}/s), ${Math.min(options.concurrency, MAX_CONCURRENCY)} at a time` +
      (load.stoppedByTime ? c.yellow(` — stopped at the ${options.durationSeconds} s bound`) : ""),
    `latency p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, max ${load.latency.max} ms`,
    "",
    `  ${"scenario".padEnd(16)} ${"requests".padStart(8)} ${"failed".padStart(7)} ${"p50".padStart(7)} ${"p99".padStart(7)}`,
  ];
  for (const [name, s] of Object.entries(load.byScenario)) {
    const failed = s.failed > 0 ? c.red(String(s.failed).padStart(7)) : String(s.failed).padStart(7);
    lines.push(`  ${name.padEnd(16)} ${String(s.requests).padStart(8)} ${failed} ${`${s.p50} ms`.padStart(7)} ${`${s.p99} ms`.padStart(7)}`);
  }
  if (load.problems.length > 0) {
    lines.push("", c.red(c.bold("errors:")));
    for (const p of load.problems.slice(0, 20)) lines.push(`  ${c.red(`${p.count}×`)} ${p.message}`);
    if (load.problems.length > 20) lines.push(`  … and ${load.problems.length - 20} more kinds`);
  }
  lines.push(
    "",
    load.failed === 0
      ? c.green(c.bold("Okta would accept every answer."))
      : c.red(c.bold(`Okta would reject ${load.failed} of ${load.requests} answers.`)),
  );
  return lines;
}
