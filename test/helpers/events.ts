/**
 * Test factories for the operations API: a seeded synthetic System Log (many events, batches, orgs, outcomes,
 * targets, forward states) written straight into D1 the way ingest stores it, the same selection computed in
 * JavaScript as the expected answer, and the request log lines (what D1 reported each request read).
 */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { FORWARD } from "../../src/storage/events";

export interface SeededEvent {
  id: number;
  uuid: string;
  eventType: string;
  published: number | null;
  receivedAt: number;
  actorId: string;
  actorAlternateId: string;
  outcomeResult: string;
  batchId: number;
  forward: number;
  oktaOrg: string;
  targetIds: string[];
  /** The batch is still in the outbox. */
  pending: boolean;
}

export const SEED_TYPES = [
  "user.session.start",
  "user.session.end",
  "user.authentication.sso",
  "user.authentication.auth_via_mfa",
  "user.lifecycle.create",
  "user.lifecycle.activate",
  "user.lifecycle.deactivate",
  "user.account.update_profile",
  "user.account.lock",
  // Frequent, as in real orgs: a prefix's types are not evenly spread (tests the merge's per-type caps).
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.lock",
  "user.account.update_password",
  "user.account.reset_password",
  "user.account.unlock_by_admin",
  "user.mfa.factor.activate",
  "policy.evaluate_sign_on",
  "group.user_membership.add",
  "group.user_membership.remove",
  "app.oauth2.as.token.grant",
  "system.import.start",
] as const;

/** A deterministic generator (mulberry32), so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

/** The next free event and batch ids, as ingest computes them: one past the newest batch's range. */
async function nextIds(): Promise<{ event: number; batch: number }> {
  const row = await env.DB.prepare(
    `SELECT coalesce((SELECT first_event_id + event_count FROM event_batches ORDER BY id DESC LIMIT 1), 1) AS event,
            coalesce((SELECT max(id) FROM event_batches), 0) + 1 AS batch`,
  ).first<{ event: number; batch: number }>();
  return row!;
}

/**
 * Store `count` synthetic events in batches of 1–20 after whatever is stored, received from `start` on, a few
 * hundred ms apart, published up to 5 s before. Returns them oldest first.
 */
export async function seedEvents(count: number, options: { seed?: number; start?: number; types?: readonly string[] } = {}): Promise<SeededEvent[]> {
  const random = rng(options.seed ?? 1);
  const types = options.types ?? SEED_TYPES;
  let { event: id, batch } = await nextIds();
  let clock = options.start ?? Date.UTC(2026, 10, 1);
  const events: SeededEvent[] = [];
  const batches: Array<{ id: number; first: number; count: number; receivedAt: number; org: string; pending: boolean }> = [];
  while (events.length < count) {
    const size = Math.min(count - events.length, 1 + Math.floor(random() * 20));
    clock += 50 + Math.floor(random() * 500);
    const org = random() < 0.8 ? "acme.okta.com" : "beta.okta.com";
    const pending = random() < 0.05;
    batches.push({ id: batch, first: id, count: size, receivedAt: clock, org, pending });
    for (let i = 0; i < size; i++) {
      const roll = random();
      const actor = Math.floor(random() * 40);
      events.push({
        id,
        uuid: `seed-${options.seed ?? 1}-${id}`,
        eventType: pick(random, types),
        published: random() < 0.01 ? null : clock - Math.floor(random() * 5000),
        receivedAt: clock,
        actorId: `00u${String(actor).padStart(4, "0")}`,
        actorAlternateId: `user${actor}@acme.example`,
        outcomeResult: roll < 0.84 ? "SUCCESS" : roll < 0.92 ? "FAILURE" : roll < 0.95 ? "DENY" : "SKIPPED",
        batchId: batch,
        forward: random() < 0.03 ? FORWARD.skip : random() < 0.2 ? FORWARD.unrouted : FORWARD.yes,
        oktaOrg: org,
        targetIds: random() < 0.7 ? [`00g${Math.floor(random() * 30)}`, `0oa${Math.floor(random() * 10)}`] : [],
        pending,
      });
      id++;
    }
    batch++;
  }
  // Each batch's texts one after another, as ingest stores them (plain UTF-8), each event knowing its span.
  const encoder = new TextEncoder();
  const texts = new Map<number, string>();
  const spans = new Map<number, { offset: number; bytes: number }>();
  for (const e of events) {
    const text = JSON.stringify({
      uuid: e.uuid,
      eventType: e.eventType,
      published: e.published === null ? null : new Date(e.published).toISOString(),
      actor: { id: e.actorId, alternateId: e.actorAlternateId, type: "User" },
      outcome: { result: e.outcomeResult },
      target: e.targetIds.map((t) => ({ id: t, type: t.startsWith("00g") ? "UserGroup" : "AppInstance" })),
    });
    const before = texts.get(e.batchId) ?? "";
    spans.set(e.id, { offset: encoder.encode(before).byteLength, bytes: encoder.encode(text).byteLength });
    texts.set(e.batchId, before + text);
  }
  const eventRows = events.map((e) => ({
    i: e.id,
    u: e.uuid,
    t: e.eventType,
    p: e.published,
    a: e.actorId,
    aa: e.actorAlternateId,
    o: e.outcomeResult,
    b: e.batchId,
    r: e.receivedAt,
    f: e.forward,
    po: spans.get(e.id)!.offset,
    pb: spans.get(e.id)!.bytes,
  }));
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < eventRows.length; i += 500) {
    statements.push(
      env.DB.prepare(
        `INSERT INTO events (id, uuid, event_type, published, actor_id, actor_alternate_id, outcome_result, severity, batch_id,
                             received_at, forward, payload_offset, payload_bytes)
         SELECT value ->> '$.i', value ->> '$.u', value ->> '$.t', value ->> '$.p', value ->> '$.a', value ->> '$.aa',
                value ->> '$.o', 'INFO', value ->> '$.b', value ->> '$.r', value ->> '$.f', value ->> '$.po', value ->> '$.pb'
         FROM json_each(?1)`,
      ).bind(JSON.stringify(eventRows.slice(i, i + 500))),
    );
  }
  // Each batch's uuid list, types and failed outcomes, as ingest writes them (migrations/0010).
  const uuids = new Map<number, string[]>();
  for (const e of events) {
    if (!uuids.has(e.batchId)) uuids.set(e.batchId, []);
    uuids.get(e.batchId)!.push(e.uuid);
  }
  statements.push(
    env.DB.prepare(
      `INSERT INTO event_batches (id, first_event_id, event_count, received_at, okta_org, event_hook_id, envelope_event_id, uuids)
       SELECT value ->> '$.id', value ->> '$.first', value ->> '$.count', value ->> '$.receivedAt', value ->> '$.org', 'who1', 'env-' || (value ->> '$.id'),
              value ->> '$.uuids'
       FROM json_each(?1)`,
    ).bind(JSON.stringify(batches.map((b) => ({ ...b, uuids: JSON.stringify(uuids.get(b.id) ?? []) })))),
    env.DB.prepare(
      `INSERT INTO batch_types (event_type, batch_id) SELECT DISTINCT value ->> '$.t', value ->> '$.b' FROM json_each(?1)`,
    ).bind(JSON.stringify(eventRows)),
    env.DB.prepare(
      `INSERT INTO batch_failures (outcome_result, batch_id)
       SELECT DISTINCT value ->> '$.o', value ->> '$.b' FROM json_each(?1) WHERE value ->> '$.o' IN ('FAILURE', 'DENY')`,
    ).bind(JSON.stringify(eventRows)),
    env.DB.prepare(
      `INSERT INTO event_payloads (batch_id, data) SELECT value ->> '$.id', CAST(value ->> '$.text' AS BLOB) FROM json_each(?1)`,
    ).bind(JSON.stringify(batches.map((b) => ({ id: b.id, text: texts.get(b.id) })))),
    env.DB.prepare(
      `INSERT INTO forward_outbox (batch_id, created_at, enqueued_at, lease_until)
       SELECT value ->> '$.id', value ->> '$.receivedAt', value ->> '$.receivedAt', NULL FROM json_each(?1) WHERE value ->> '$.pending'`,
    ).bind(JSON.stringify(batches)),
  );
  await env.DB.batch(statements);
  return events;
}

export async function clearEvents(): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM events"),
    env.DB.prepare("DELETE FROM event_batches"),
    env.DB.prepare("DELETE FROM batch_types"),
    env.DB.prepare("DELETE FROM batch_failures"),
    env.DB.prepare("DELETE FROM event_payloads"),
    env.DB.prepare("DELETE FROM forward_outbox"),
    env.DB.prepare("DELETE FROM batch_deliveries"),
  ]);
}

export type ForwardStateName = "skipped" | "pending" | "unrouted" | "fanned_out";

export function forwardStateOf(e: SeededEvent): ForwardStateName {
  if (e.forward === FORWARD.skip) return "skipped";
  if (e.pending) return "pending";
  return e.forward === FORWARD.unrouted ? "unrouted" : "fanned_out";
}

/** The log lines written while `work` runs (parsed), each with the level it was written at. */
export async function logLines<T>(work: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const spies = (["log", "warn", "error"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      try {
        lines.push(JSON.parse(String(args[0])) as Record<string, unknown>);
      } catch {
        // not one of ours
      }
    }),
  );
  try {
    return { result: await work(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** The request log lines written while `work` runs (parsed), with the level they were written at. */
export async function requestLines<T>(work: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const { result, lines } = await logLines(work);
  return { result, lines: lines.filter((line) => line.msg === "request") };
}
