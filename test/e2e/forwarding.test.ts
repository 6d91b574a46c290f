/**
 * End to end (docs/forwarding.md): the real Worker (`wrangler dev`, local D1 and Queues) receives Okta event hook
 * deliveries over HTTP and forwards them to a real HTTP receiver started here on 127.0.0.1, which verifies every
 * signature with an independent Standard Webhooks implementation (the `standardwebhooks` package).
 *
 * One gateway, several destinations, each with its own receiver path and behaviour; retries are made fast with
 * FORWARD_RETRY_BASE_SECONDS=1. Every wait is bounded in time and in rounds.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, startGateway, type Gateway } from "./gateway.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/okta");
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), "utf8");

const SESSION_START = fixture("event-hook.delivery.user-session-start.json"); // user.session.start, f1d0b993-…
const LIFECYCLE_CREATE = fixture("captured/event-hook.delivery.user-lifecycle-create.json"); // 9191ef7a-…
const DELETE_INITIATED = fixture("captured/event-hook.delivery.user-lifecycle-delete-initiated.json"); // 4b9e1d8f-…
const PROFILE_UPDATE_BY_GATEWAY = fixture("captured/event-hook.delivery.user-account-update-profile.json"); // actor "badactor"

const UUID = {
  session: "f1d0b993-cc19-11ed-a688-db22c99ef6c4",
  create: "9191ef7a-f669-11e9-b9b3-fd3a55cb1b10",
  deleteInitiated: "4b9e1d8f-f684-11e9-ad48-d37548da8f9c",
  profileUpdate: "04b1f1d4-4bbf-11ec-82ee-e73dada86765",
};
const FORWARDED = [UUID.session, UUID.create, UUID.deleteInitiated].sort();
const OKTA_RECEIVER_SECRET = "legacy-receiver-shared-secret";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** null when the path has no secret registered yet. */
  signatureValid: boolean | null;
  status: number;
}

/** One receiver for every destination: behaviour by path, every request recorded and its signature verified. */
class Receiver {
  readonly requests: Received[] = [];
  readonly secrets = new Map<string, string>();
  private readonly failuresSoFar = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const routePath = (req.url ?? "/").split("?")[0]!;
        const status = this.statusFor(routePath, body);
        const secret = this.secrets.get(routePath);
        let signatureValid: boolean | null = null;
        if (secret) {
          try {
            new Webhook(secret).verify(body, {
              "webhook-id": String(req.headers["webhook-id"] ?? ""),
              "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
              "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
            });
            signatureValid = true;
          } catch {
            signatureValid = false;
          }
        }
        this.requests.push({ path: routePath, headers: req.headers, body, signatureValid, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  /** /flaky fails each event twice with 500, then accepts; /reject answers 400; the rest 204. */
  private statusFor(routePath: string, body: string): number {
    if (routePath === "/reject") return 400;
    if (routePath === "/flaky") {
      const uuid = eventUuidOf(body);
      const n = this.failuresSoFar.get(uuid) ?? 0;
      if (n < 2) {
        this.failuresSoFar.set(uuid, n + 1);
        return 500;
      }
    }
    return 204;
  }

  at(routePath: string): Received[] {
    return this.requests.filter((r) => r.path === routePath);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The forwarded event's uuid, in either format. */
function eventUuidOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { data?: { uuid?: string; events?: Array<{ uuid: string }> } };
    return parsed.data?.uuid ?? parsed.data?.events?.[0]?.uuid ?? "";
  } catch {
    return "";
  }
}

function uuidsAt(receiver: Receiver, routePath: string, onlyAccepted = false): string[] {
  return receiver
    .at(routePath)
    .filter((r) => !onlyAccepted || (r.status >= 200 && r.status < 300))
    .map((r) => eventUuidOf(r.body))
    .sort();
}

/** Poll `check` until it returns true: at most `timeoutMs` and `rounds` rounds. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000, rounds = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("forwarding, end to end through the real Worker", () => {
  const receiver = new Receiver();
  let gw: Gateway;
  const ids: Record<string, string> = {};

  async function admin(method: string, urlPath: string, body?: unknown): Promise<Response> {
    return fetch(`${gw.baseUrl}/admin/api${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function addDestination(name: string, routePath: string, extra: Record<string, unknown> = {}): Promise<void> {
    const res = await admin("POST", "/destinations", { name, url: `http://127.0.0.1:${receiver.port}${routePath}`, ...extra });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as { id: string; secret: string };
    ids[name] = created.id;
    receiver.secrets.set(routePath, created.secret);
  }

  async function postToHook(body: string): Promise<Response> {
    return fetch(`${gw.baseUrl}/hooks/events`, {
      method: "POST",
      headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json", "user-agent": "Okta Hook Service v1.0.0" },
      body,
    });
  }

  beforeAll(async () => {
    await receiver.start();
    gw = await startGateway({
      vars: {
        ALLOW_INSECURE_DESTINATIONS: "true",
        FORWARD_RETRY_BASE_SECONDS: "1",
        // Loop guard: the gateway's own Okta service account (the actor of the profile-update fixture).
        IGNORE_ACTOR_IDS: "badactor",
      },
    });
    await addDestination("everything", "/all");
    await addDestination("sessions", "/sessions", { eventTypes: ["user.session.start"] });
    await addDestination("lifecycle", "/lifecycle", { eventTypes: ["user.lifecycle.*"] });
    await addDestination("failures", "/failures", { conditions: { outcomeResults: ["FAILURE"] } });
    await addDestination("flaky", "/flaky");
    await addDestination("rejecting", "/reject");
    await addDestination("legacy okta receiver", "/okta", {
      format: "okta",
      oktaAuth: { header: "x-okta-receiver-secret", value: OKTA_RECEIVER_SECRET },
    });

    for (const body of [SESSION_START, LIFECYCLE_CREATE, DELETE_INITIATED, PROFILE_UPDATE_BY_GATEWAY]) {
      expect((await postToHook(body)).status).toBe(204);
    }
    // Okta's at-least-once delivery: the same envelope again, and the same event in a new envelope.
    expect((await postToHook(SESSION_START)).status).toBe(204);
    const again = JSON.parse(LIFECYCLE_CREATE) as { eventId: string };
    again.eventId = "11111111-2222-4333-8444-555555555555";
    expect((await postToHook(JSON.stringify(again))).status).toBe(204);

    // Everything that will arrive has arrived: the flaky receiver got all three events through its retries.
    await waitFor(() => uuidsAt(receiver, "/flaky", true).length >= 3 && receiver.at("/okta").length >= 3 && receiver.at("/reject").length >= 3 && receiver.at("/all").length >= 3, "all deliveries");
    // A little longer, so a wrong extra retry or duplicate would have time to show up (base delay is 1 s).
    await sleep(5_000);
  }, 150_000);

  afterAll(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  it("every matching event arrives once, signed and verifiable by an independent Standard Webhooks implementation", () => {
    expect(uuidsAt(receiver, "/all")).toEqual(FORWARDED);
    for (const r of receiver.at("/all")) {
      expect(r.signatureValid).toBe(true);
      expect(r.headers["content-type"]).toBe("application/json");
    }
    const session = receiver.at("/all").find((r) => eventUuidOf(r.body) === UUID.session)!;
    expect(JSON.parse(session.body)).toMatchObject({ type: "user.session.start", timestamp: "2023-03-26T21:05:32.159Z" });
    // The event is forwarded exactly as Okta sent it.
    expect(JSON.parse(session.body).data).toEqual(JSON.parse(SESSION_START).data.events[0]);
  });

  it("filters route by event type (exact and prefix) and conditions; non-matching events don't arrive", () => {
    expect(uuidsAt(receiver, "/sessions")).toEqual([UUID.session]);
    expect(uuidsAt(receiver, "/lifecycle")).toEqual([UUID.create, UUID.deleteInitiated].sort());
    expect(receiver.at("/failures")).toEqual([]);
  });

  it("duplicates from Okta are forwarded once; the loop guard keeps the gateway's own events home", () => {
    for (const routePath of ["/all", "/okta", "/lifecycle", "/sessions"]) {
      const uuids = uuidsAt(receiver, routePath);
      expect(new Set(uuids).size, routePath).toBe(uuids.length);
      expect(uuids).not.toContain(UUID.profileUpdate);
    }
  });

  it("a receiver that fails (500) and then recovers gets everything, retried under one stable webhook-id", async () => {
    expect(uuidsAt(receiver, "/flaky", true)).toEqual(FORWARDED);
    for (const uuid of FORWARDED) {
      const attempts = receiver.at("/flaky").filter((r) => eventUuidOf(r.body) === uuid);
      expect(attempts.map((a) => a.status)).toEqual([500, 500, 204]);
      expect(new Set(attempts.map((a) => a.headers["webhook-id"])).size).toBe(1);
      expect(attempts.every((a) => a.signatureValid)).toBe(true);
    }
    const res = await admin("GET", `/events/${UUID.create}/deliveries`);
    expect(res.status).toBe(200);
    const { deliveries } = (await res.json()) as { deliveries: Array<{ destinationId: string; state: string; attemptLog: Array<{ status: number; outcome: string }> }> };
    const flaky = deliveries.find((d) => d.destinationId === ids.flaky)!;
    expect(flaky.state).toBe("delivered");
    expect(flaky.attemptLog.map((a) => [a.status, a.outcome])).toEqual([[500, "retry"], [500, "retry"], [204, "delivered"]]);
  });

  it("a receiver answering 400 gets each event once, no retries, and the deliveries are dead", async () => {
    expect(uuidsAt(receiver, "/reject")).toEqual(FORWARDED);
    const res = await admin("GET", `/events/${UUID.session}/deliveries`);
    const { deliveries } = (await res.json()) as { deliveries: Array<{ destinationId: string; state: string; attempts: number; lastStatus: number }> };
    expect(deliveries.find((d) => d.destinationId === ids.rejecting)).toMatchObject({ state: "dead", attempts: 1, lastStatus: 400 });
  });

  it("the okta format arrives in Okta's own envelope with the configured auth header", () => {
    const okta = receiver.at("/okta");
    expect(uuidsAt(receiver, "/okta")).toEqual(FORWARDED);
    for (const r of okta) {
      expect(r.headers["x-okta-receiver-secret"]).toBe(OKTA_RECEIVER_SECRET);
      expect(r.signatureValid).toBe(true);
      const body = JSON.parse(r.body) as { eventType: string; cloudEventsVersion: string; eventId: string; data: { events: unknown[] } };
      expect(body.eventType).toBe("com.okta.event_hook");
      expect(body.cloudEventsVersion).toBe("0.1");
      expect(body.data.events).toHaveLength(1);
      expect(r.headers["idempotency-key"]).toBe(body.eventId);
    }
  });

  it("the gateway's D1 holds the destination secrets sealed, never in clear", async () => {
    const rows = await gw.query<Record<string, unknown>>("SELECT * FROM destinations");
    expect(rows.length).toBeGreaterThan(0);
    const dump = JSON.stringify(rows);
    for (const secret of [...receiver.secrets.values(), OKTA_RECEIVER_SECRET, "whsec_"]) expect(dump).not.toContain(secret);
    for (const row of rows) expect(row.signing_secret).toMatch(/^enc:v1:[0-9a-f]{8}:/);
  });

  it("a paused destination's events wait, then arrive on resume", async () => {
    expect((await admin("PATCH", `/destinations/${ids.sessions}`, { state: "paused" })).status).toBe(200);
    const event = JSON.parse(SESSION_START) as { data: { events: Array<{ uuid: string }> }; eventId: string };
    event.data.events[0]!.uuid = "aaaaaaaa-0000-4000-8000-000000000001";
    event.eventId = "aaaaaaaa-0000-4000-8000-0000000000ff";
    expect((await postToHook(JSON.stringify(event))).status).toBe(204);
    await waitFor(() => uuidsAt(receiver, "/all").includes("aaaaaaaa-0000-4000-8000-000000000001"), "the active destination got it");
    await sleep(3_000);
    expect(uuidsAt(receiver, "/sessions")).toEqual([UUID.session]);
    expect((await admin("PATCH", `/destinations/${ids.sessions}`, { state: "active" })).status).toBe(200);
    await waitFor(() => uuidsAt(receiver, "/sessions").length === 2, "the resumed destination got it");
    expect(uuidsAt(receiver, "/sessions")).toEqual([UUID.session, "aaaaaaaa-0000-4000-8000-000000000001"].sort());
  });

  it("an event stored but never enqueued (the outbox) reaches its destinations after one scheduled run", async () => {
    // As if the queue send had failed after the D1 write: a stored event whose batch is in the outbox, never
    // enqueued, five minutes old (its payload as UTF-8 JSON, the form rows copied from before compression have).
    const uuid = "bbbbbbbb-0000-4000-8000-000000000002";
    const event = { ...(JSON.parse(SESSION_START) as { data: { events: Array<Record<string, unknown>> } }).data.events[0], uuid };
    const sql = (s: string) => `'${s.replaceAll("'", "''")}'`;
    const at = Date.now() - 5 * 60_000;
    // The rows the ingest writes (migrations/0010): the event (its id one past the newest batch's range), its batch
    // listing it, the batch's type entry, the payload, the outbox row.
    await gw.query(
      `INSERT INTO events (uuid, id, event_type, published, actor_id, outcome_result, batch_id, received_at, forward,
                           payload_offset, payload_bytes)
       VALUES (${sql(uuid)}, (SELECT coalesce((SELECT first_event_id + event_count FROM event_batches ORDER BY id DESC LIMIT 1), 1)),
               'user.session.start', ${Date.parse("2023-03-26T21:05:32.159Z")}, '00uz9fj5aT69fHVro1d6', 'SUCCESS',
               (SELECT coalesce(max(id), 0) + 1 FROM event_batches), ${at}, 1, 0, ${Buffer.byteLength(JSON.stringify(event))});
       INSERT INTO event_batches (id, first_event_id, event_count, received_at, uuids)
       SELECT (SELECT coalesce(max(id), 0) + 1 FROM event_batches), id, 1, ${at}, json_array(uuid) FROM events WHERE uuid = ${sql(uuid)};
       INSERT INTO batch_types (event_type, batch_id) SELECT 'user.session.start', max(id) FROM event_batches;
       INSERT INTO event_payloads (batch_id, data) SELECT max(id), CAST(${sql(JSON.stringify(event))} AS BLOB) FROM event_batches;
       INSERT INTO forward_outbox (batch_id, created_at) SELECT max(id), ${at} FROM event_batches;`,
    );
    await sleep(2_000);
    expect(uuidsAt(receiver, "/all")).not.toContain(uuid);
    const res = await gw.runScheduled();
    expect(res.status).toBe(200);
    await waitFor(() => uuidsAt(receiver, "/all").includes(uuid) && uuidsAt(receiver, "/sessions").includes(uuid), "the swept event arrives");
    expect(receiver.at("/all").filter((r) => eventUuidOf(r.body) === uuid).every((r) => r.signatureValid)).toBe(true);
    expect(gw.output()).toMatch(/"msg":"outbox sweep","batches":1/);
  });

  it("Okta's exact bytes reach the receiver — 1e400, a 23-digit integer, escapes, 1,100-deep nesting — and verify", async () => {
    const uuid = "cccccccc-0000-4000-8000-000000000003";
    const nested = `${"[".repeat(1_100)}${"]".repeat(1_100)}`;
    const eventText =
      `{"uuid":"${uuid}","published":"2026-11-24T10:00:00.000Z","eventType":"user.session.start","severity":"INFO",` +
      `"actor":{"id":"00u1","type":"User","alternateId":"a@example.com"},"outcome":{"result":"SUCCESS"},` +
      `"debugContext":{"debugData":{"huge":1e400,"id":12345678901234567890123,"esc":"\\u00e9\\/","deep":${nested}}}}`;
    const body = `{"eventType":"com.okta.event_hook","eventId":"dddddddd-0000-4000-8000-000000000004","data":{"events":[${eventText}]}}`;
    expect((await postToHook(body)).status).toBe(204);
    await waitFor(() => uuidsAt(receiver, "/all").includes(uuid), "the exact-bytes event arrives");
    const arrived = receiver.at("/all").find((r) => eventUuidOf(r.body) === uuid)!;
    expect(arrived.body).toBe(`{"type":"user.session.start","timestamp":"2026-11-24T10:00:00.000Z","data":${eventText}}`);
    expect(arrived.signatureValid).toBe(true);
  });
});
