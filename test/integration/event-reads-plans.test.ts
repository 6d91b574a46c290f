/**
 * Since migrations/0010 `events` has no index but its primary key (the uuid): any statement that reaches it
 * otherwise reads the whole table. This runs the real handlers — an Okta delivery and its repeat, the queue's
 * fan-out, the event detail and its deliveries, dead letters, the search, the stats, a replay's dry run, start and
 * step, and retention purging old events — through a D1 that records every statement, and asks SQLite for each
 * one's plan: every step that touches `events` is a primary-key lookup by uuid. And none of them needs a SQLite
 * newer than the one D1 may run (no ORDER BY inside an aggregate).
 */
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { runRetention } from "../../src/jobs/retention";
import { seedEvents } from "../helpers/events";
import {
  adminCall,
  batchOf,
  consume,
  createDestination,
  envWith,
  FORWARD_QUEUE_NAME,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  stubDestinations,
} from "../helpers/forwarding";
import { recordedDatabase, type StatementLog } from "../helpers/recorded-d1";
import { DAY_MS } from "../helpers/stored-events";

it("every handler reaches `events` by uuid only: ingest, fan-out, reads, search, stats, replay, retention", { timeout: 120_000 }, async () => {
  const now = Date.now();
  const old = await seedEvents(1500, { seed: 11, start: now - 60 * DAY_MS });
  const log: StatementLog = [];
  const db = recordedDatabase(env.DB, log);
  const e = envWith({ DB: db, FORWARD_QUEUE: recordingQueue() });
  stubDestinations(() => new Response("ok"));
  await createDestination({ name: "plans" }, e);
  const { envelope, uuids } = oktaDelivery("user.session.start", [{}, {}, {}]);
  expect((await postOktaDelivery(envelope, e)).status).toBe(204);
  expect((await postOktaDelivery(envelope, e)).status).toBe(204); // the repeat: all duplicates
  await consume(FORWARD_QUEUE_NAME, [{ kind: "batches", batchIds: [await batchOf(uuids[0]!)] }], { env: { DB: db } });
  await env.DB.prepare("INSERT INTO dead_letters (event_uuid, destination_id, reason, attempts, recorded_at) VALUES (?1, '', 'test', 1, ?2)")
    .bind(uuids[1], now)
    .run();
  for (const path of [`/events/${uuids[0]}`, `/events/${uuids[0]}/deliveries`, "/events?limit=20", "/events?type=user.session.*&limit=5", "/dead-letters", "/stats", "/stats/events"]) {
    expect((await adminCall("GET", path, undefined, e)).status, path).toBe(200);
  }

  vi.spyOn(console, "log").mockImplementation(() => undefined);
  const report = await runRetention(e as unknown as Env, now, { limits: { eventPage: 200, eventPagesPerRun: 3 } });
  vi.restoreAllMocks();
  expect(report.events).toBeGreaterThan(0);
  expect(report.events).toBeLessThan(old.length);

  expect((await adminCall("POST", "/replays", { dryRun: true, filter: { type: "user.session.start" } }, e)).status).toBe(200);
  const started = await adminCall("POST", "/replays", { filter: { outcome: "FAILURE" } }, e);
  expect(started.status).toBe(202);
  const { id: jobId } = (await started.json()) as { id: number };
  await consume(FORWARD_QUEUE_NAME, [{ kind: "replay", jobId, step: 0 }], { env: { DB: db } });

  const bad: string[] = [];
  const touching = new Set<string>();
  for (const { sql, values } of log) {
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...values)
      .all<{ detail: string }>();
    for (const { detail } of plan.results) {
      if (!/\b(e|events)\b/.test(detail)) continue;
      touching.add(sql);
      if (!/^SEARCH (e|events) USING PRIMARY KEY \(uuid=\?\)( LEFT-JOIN)?$/.test(detail)) bad.push(`${detail}: ${sql.replace(/\s+/g, " ")}`);
    }
  }
  const kinds = [...touching].map((sql) => sql.trim().split(/\s+/).slice(0, 3).join(" "));
  // The ingest's batch row (it finds its events by uuid), the reads, retention's delete: all of them were looked at.
  expect(kinds).toEqual(expect.arrayContaining(["INSERT INTO event_batches", "DELETE FROM events", "SELECT e.id, e.uuid,"]));
  expect(touching.size).toBeGreaterThan(12);
  expect(bad).toEqual([]);
  // Nor does any of them order inside an aggregate (`json_group_array(x ORDER BY y)`): that needs SQLite 3.44 or
  // later, and what D1 runs in production is not ours to pick. Retention's rewrite of a batch's list was one.
  const orderedAggregates = log
    .map(({ sql }) => sql.replace(/\s+/g, " "))
    .filter((sql) => /\b(json_group_array|json_group_object|group_concat|string_agg)\s*\([^()]*\bORDER BY\b/i.test(sql));
  expect([...new Set(orderedAggregates)]).toEqual([]);
});
