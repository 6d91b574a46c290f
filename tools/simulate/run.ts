/**
 * Runs scenarios one step after another (a duplicate must follow what it repeats) and keeps, per step, what was
 * sent (method and path only), what came back (status, time, size, decision) and what Okta would say about it.
 */
import type { Finding } from "./contract/findings.ts";
import { exchange } from "./http.ts";
import type { Scenario, ScenarioContext, Step } from "./scenarios.ts";

export interface StepResult {
  scenario: string;
  label: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  bytes: number;
  decision?: string;
  findings: Finding[];
  uuids?: string[];
}

export interface RunResult {
  results: StepResult[];
  errors: number;
  warnings: number;
  /** Events sent in deliveries, counting repeats, and distinct uuids among them. */
  eventsSent: number;
  distinctEvents: number;
}

export async function runStep(step: Step): Promise<StepResult> {
  const answer = await exchange(step.request);
  const findings = step.check(answer);
  return {
    scenario: step.scenario,
    label: step.label,
    method: step.request.method,
    path: new URL(step.request.url).pathname,
    status: answer.status,
    ms: answer.ms,
    bytes: answer.bytes,
    ...(step.describe ? { decision: step.describe(answer) } : {}),
    findings,
    ...(step.uuids ? { uuids: step.uuids } : {}),
  };
}

export function summarize(results: StepResult[]): RunResult {
  const all = results.flatMap((r) => r.findings);
  const uuids = results.flatMap((r) => r.uuids ?? []);
  return {
    results,
    errors: all.filter((f) => f.severity === "error").length,
    warnings: all.filter((f) => f.severity === "warning").length,
    eventsSent: uuids.length,
    distinctEvents: new Set(uuids).size,
  };
}

export async function runScenarios(
  scenarios: readonly Scenario[],
  ctx: ScenarioContext,
  onResult: (result: StepResult, scenario: Scenario, first: boolean) => void = () => {},
): Promise<RunResult> {
  const results: StepResult[] = [];
  for (const scenario of scenarios) {
    let first = true;
    for (const step of scenario.steps(ctx)) {
      const result = await runStep(step);
      results.push(result);
      onResult(result, scenario, first);
      first = false;
    }
  }
  return summarize(results);
}
