/**
 * The retention job (cron RETENTION_CRON, hourly; docs/operations.md "Retention"): keeps D1 under its size limit by
 * purging what is older than the configured ages — events with their batches, first-attempt records, deliveries and
 * attempts (RETENTION_EVENT_DAYS), dead letters, inline hook call records and the stats rollup (their own ages).
 *
 * Bounded per run: events go in pages of EVENT_PAGE, and of at most EVENT_PAGE_BYTES of text (one read, one archive,
 * one delete transaction each), at most EVENT_PAGES_PER_RUN pages; every other table in pages of STEP_PAGE, at most STEP_PAGES_PER_RUN each; and no page
 * starts once RUN_BUDGET_MS have passed. What is left is for the next run (the log line says `more`). At Okta's
 * maximum of 400,000 events a day, an hour brings ~17,000 events past the cutoff; a run can purge 50,000, so a
 * backlog (retention switched on late, or shortened) shrinks by ~800,000 events a day.
 *
 * Never lost: with the ARCHIVE bucket bound, a page is deleted only after its archive is written and read back
 * (src/storage/archive.ts); a failed archive stops the event purge for this run. Never purged: an event that is
 * held (src/storage/retention-holds.ts: its batch not fanned out, a delivery pending, failed or waiting), nor the
 * newest batch, row and events (the next batch and event ids follow it).
 *
 * One log line per run ("retention") says what was removed and archived, how many old events are held, and whether
 * more remains. A failing step logs at error level and fails the run after the other steps ran, so a purge that
 * stopped working is visible in the cron's status and in the logs.
 */
import { getConfig, type Config } from "../config";
import type { Env } from "../env";
import { describeError, log } from "../log";
import { ArchiveError, archiveEvents } from "../storage/archive";
import { inlineCallRetention } from "../storage/retention-inline-calls";
import {
  countHeldEvents,
  cursorAfter,
  deadLetterRetention,
  eventCountRetention,
  PURGE_START,
  purgeBound,
  purgeCandidates,
  purgeEvents,
  type RetentionStep,
} from "../storage/retention";

/** The cron expression (wrangler.toml [triggers]) that runs retention instead of the outbox sweep. */
export const RETENTION_CRON = "30 * * * *";
export const DAY_MS = 86_400_000;
/**
 * Events per page: read, archived and deleted together (the delete transaction writes one row per event, plus its
 * deliveries and attempts, plus a few per batch: its row, index entries, type and outcome entries, payload).
 */
export const EVENT_PAGE = 2000;
/**
 * Bytes of event text a page takes at most (plus its last event): the page is held in memory as hex, as text and
 * as its archive, within a Worker's 128 MB, however large the events (up to 1,000,000 bytes each).
 */
export const EVENT_PAGE_BYTES = 8_000_000;
export const EVENT_PAGES_PER_RUN = 25;
/** Rows per page of the age-only purges (dead letters, inline calls, the stats rollup). */
export const STEP_PAGE = 1000;
export const STEP_PAGES_PER_RUN = 20;
/** No page starts after this much wall time in one run. */
export const RUN_BUDGET_MS = 120_000;

/** The age-only purges and the age each uses. */
export function retentionSteps(config: Config): Array<{ step: RetentionStep; days: number }> {
  return [
    { step: deadLetterRetention, days: config.retention.deadLetterDays },
    { step: inlineCallRetention, days: config.retention.inlineCallDays },
    { step: eventCountRetention, days: config.retention.statsDays },
  ];
}

export interface RetentionReport {
  events: number;
  batches: number;
  batchDeliveries: number;
  payloads: number;
  deliveries: number;
  attempts: number;
  /** Old events kept by a hold, counted when the purge reached the end of the old range (else null). */
  heldEvents: number | null;
  archivedObjects: number;
  archivedEvents: number;
  archivedBytes: number;
  /** Rows deleted by each age-only step, by its name. */
  steps: Record<string, number>;
  /** Work was left for the next run (a page limit or the time budget was reached). */
  more: boolean;
}

export interface RetentionLimits {
  eventPage: number;
  eventPageBytes: number;
  eventPagesPerRun: number;
  stepPage: number;
  stepPagesPerRun: number;
  runBudgetMs: number;
}

export const RETENTION_LIMITS: RetentionLimits = {
  eventPage: EVENT_PAGE,
  eventPageBytes: EVENT_PAGE_BYTES,
  eventPagesPerRun: EVENT_PAGES_PER_RUN,
  stepPage: STEP_PAGE,
  stepPagesPerRun: STEP_PAGES_PER_RUN,
  runBudgetMs: RUN_BUDGET_MS,
};

export interface RetentionOptions {
  /** Wall clock for the run's time budget; injectable for tests. */
  clock?: () => number;
  /** Replaces RETENTION_LIMITS (tests use small pages). */
  limits?: Partial<RetentionLimits>;
  /** Replaces retentionSteps(config) (tests). */
  steps?: Array<{ step: RetentionStep; days: number }>;
}

export async function runRetention(env: Env, now: number, options: RetentionOptions = {}): Promise<RetentionReport> {
  const { config } = getConfig(env);
  const clock = options.clock ?? Date.now;
  const limits = { ...RETENTION_LIMITS, ...options.limits };
  const started = clock();
  const overBudget = () => clock() - started >= limits.runBudgetMs;
  const report: RetentionReport = {
    events: 0,
    batches: 0,
    batchDeliveries: 0,
    payloads: 0,
    deliveries: 0,
    attempts: 0,
    heldEvents: null,
    archivedObjects: 0,
    archivedEvents: 0,
    archivedBytes: 0,
    steps: {},
    more: false,
  };
  const failures: unknown[] = [];

  if (config.retention.eventDays > 0) {
    try {
      await purgeOldEvents(env, now - config.retention.eventDays * DAY_MS, report, limits, overBudget);
    } catch (error) {
      failures.push(error);
      report.more = true;
      const archive = error instanceof ArchiveError;
      log("error", archive ? "retention: archive failed, events not purged" : "retention: event purge failed", {
        error: describeError(error),
        ...(archive ? { key: error.key } : {}),
      });
    }
  }

  for (const { step, days } of options.steps ?? retentionSteps(config)) {
    if (days <= 0) continue;
    const cutoff = now - days * DAY_MS;
    let total = 0;
    try {
      for (let page = 0; page < limits.stepPagesPerRun; page++) {
        if (overBudget()) {
          report.more = true;
          break;
        }
        const deleted = await step.purge(env.DB, cutoff, limits.stepPage);
        total += deleted;
        if (deleted < limits.stepPage) break;
        if (page === limits.stepPagesPerRun - 1) report.more = true;
      }
    } catch (error) {
      failures.push(error);
      log("error", "retention: step failed", { step: step.name, error: describeError(error) });
    }
    report.steps[step.name] = total;
  }

  log(failures.length > 0 ? "error" : "info", "retention", {
    events: report.events,
    batches: report.batches,
    batchDeliveries: report.batchDeliveries,
    payloads: report.payloads,
    deliveries: report.deliveries,
    attempts: report.attempts,
    heldEvents: report.heldEvents,
    archivedObjects: report.archivedObjects,
    archivedEvents: report.archivedEvents,
    archivedBytes: report.archivedBytes,
    ...report.steps,
    more: report.more,
    ms: clock() - started,
  });
  if (failures.length > 0) throw failures[0];
  return report;
}

async function purgeOldEvents(
  env: Env,
  cutoff: number,
  report: RetentionReport,
  limits: RetentionLimits,
  overBudget: () => boolean,
): Promise<void> {
  const bound = await purgeBound(env.DB, cutoff);
  if (bound === null) {
    report.heldEvents = 0;
    return;
  }
  let cursor = PURGE_START;
  for (let page = 0; page < limits.eventPagesPerRun; page++) {
    if (overBudget()) {
      report.more = true;
      return;
    }
    const candidates = await purgeCandidates(env.DB, { cursor, bound, cutoff, limit: limits.eventPage, maxBytes: limits.eventPageBytes });
    if (candidates.length > 0) {
      if (env.ARCHIVE) {
        const objects = await archiveEvents(env.ARCHIVE, candidates);
        report.archivedObjects += objects.length;
        report.archivedEvents += candidates.length;
        report.archivedBytes += objects.reduce((sum, o) => sum + o.bytes, 0);
      }
      const purged = await purgeEvents(env.DB, candidates);
      report.events += purged.events;
      report.batches += purged.batches;
      report.batchDeliveries += purged.batchDeliveries;
      report.payloads += purged.payloads;
      report.deliveries += purged.deliveries;
      report.attempts += purged.attempts;
      cursor = cursorAfter(candidates, cursor);
    }
    // A page cut short by its byte bound holds eventPageBytes or more: there may be more behind it.
    const full = candidates.length === limits.eventPage || candidates.reduce((n, c) => n + c.bytes, 0) >= limits.eventPageBytes;
    if (!full) {
      // The whole old range was seen: whatever old events remain are held.
      report.heldEvents = await countHeldEvents(env.DB, bound, cutoff);
      return;
    }
  }
  report.more = true;
}
