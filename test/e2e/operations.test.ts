/**
 * End to end (docs/forwarding.md "Finding events", "Dead letters", "Replay"): the real Worker under `wrangler dev`
 * (local D1 and Queues) stores Okta deliveries sent over HTTP, an operator finds them with the events API, redrives
 * a destination's dead letters once its receiver is fixed, and replays events to a destination created after they
 * were stored (a backfill) and to one that already had them. A receiver on 127.0.0.1 verifies every signature with
 * an independent Standard Webhooks implementation (the `standardwebhooks` package). Every wait is bounded.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, E2E_EVENT_SECRET, startGateway, waitFor, type Gateway } from "./gateway.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/okta");
const SESSION_START = readFileSync(path.join(FIXTURES, "event-hook.delivery.user-session-start.json"), "utf8");
const LIFECYCLE_CREATE = readFileSync(path.join(FIXTURES, "captured/event-hook.delivery.user-lifecycle-create.json"), "utf8");
const UUID = { session: "f1d0b993-cc19-11ed-a688-db22c99ef6c4", create: "9191ef7a-f669-11e9-b9b3-fd3a55cb1b10" };

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  uuid: string;
  signatureValid: boolean;
  status: number;
}

/** Records every request per path and verifies its signature; /broken answers 400 until `fixed`. */
class Receiver {
  readonly requests: Received[] = [];
  readonly secrets = new Map<string, string>();
  fixed = false;
  port = 0;
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const routePath = (req.url ?? "/").split("?")[0]!;
        let signatureValid = false;
        try {
          new Webhook(this.secrets.get(routePath) ?? "whsec_AAAA").verify(body, {
            "webhook-id": String(req.headers["webhook-id"] ?? ""),
            "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
            "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
          });
          signatureValid = true;
        } catch {
          signatureValid = false;
        }
        const status = routePath === "/broken" && !this.fixed ? 400 : 204;
        let uuid = "";
        try {
          uuid = (JSON.parse(body) as { data: { uuid: string } }).data.uuid;
        } catch {
          // recorded with no uuid
        }
        this.requests.push({ path: routePath, headers: req.headers, uuid, signatureValid, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  at(routePath: string, accepted = false): Received[] {
    return this.requests.filter((r) => r.path === routePath && (!accepted || r.status < 300));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe("operations API, end to end through the real Worker", () => {
  const receiver = new Receiver();
  let gw: Gateway;
  const ids: Record<string, string> = {};

  const admin = (method: string, urlPath: string, body?: unknown) => adminRequest(gw, method, urlPath, body);

  async function addDestination(name: string, routePath: string, extra: Record<string, unknown> = {}): Promise<void> {
    const res = await admin("POST", "/destinations", { name, url: `http://127.0.0.1:${receiver.port}${routePath}`, ...extra });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as { id: string; secret: string };
    ids[name] = created.id;
    receiver.secrets.set(routePath, created.secret);
  }

  async function job(id: string) {
    return (await (await admin("GET", `/replays/${id}`)).json()) as { state: string; progress: Record<string, number> };
  }

  beforeAll(async () => {
    await receiver.start();
    gw = await startGateway({ vars: { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1" } });
    await addDestination("all", "/all");
    await addDestination("broken", "/broken");
    for (const body of [SESSION_START, LIFECYCLE_CREATE]) {
      const res = await fetch(`${gw.baseUrl}/hooks/events`, {
        method: "POST",
        headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(204);
    }
    await waitFor(() => receiver.at("/all").length >= 2 && receiver.at("/broken").length >= 2, "first deliveries");
  }, 150_000);

  afterAll(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  it("finds the events: newest first, by type prefix, and one event in detail with Okta's payload", async () => {
    const all = (await (await admin("GET", "/events")).json()) as { events: Array<{ uuid: string; forwardState: string }>; nextCursor: string | null };
    expect(all.events.map((e) => e.uuid)).toEqual([UUID.create, UUID.session]);
    expect(all.events.every((e) => e.forwardState === "fanned_out")).toBe(true);
    expect(all.nextCursor).toBeNull();
    const lifecycle = (await (await admin("GET", "/events?type=user.lifecycle.*")).json()) as { events: Array<{ uuid: string }> };
    expect(lifecycle.events.map((e) => e.uuid)).toEqual([UUID.create]);
    const detail = (await (await admin("GET", `/events/${UUID.session}`)).json()) as { payload: { uuid: string }; deliveries: Array<{ destinationId: string; state: string }> };
    expect(detail.payload.uuid).toBe(UUID.session);
    expect(Object.fromEntries(detail.deliveries.map((d) => [d.destinationId, d.state]))).toEqual({ [ids.all!]: "delivered", [ids.broken!]: "dead" });
    const bad = await admin("GET", "/events?limit=0");
    expect(bad.status).toBe(400);
  });

  it("redrives a destination's dead letters once its receiver is fixed, with the original webhook-ids", async () => {
    const letters = (await (await admin("GET", `/dead-letters?destinationId=${ids.broken}`)).json()) as { deadLetters: Array<{ eventUuid: string }> };
    expect(letters.deadLetters.map((l) => l.eventUuid).sort()).toEqual([UUID.create, UUID.session].sort());
    const firstIds = receiver.at("/broken").map((r) => r.headers["webhook-id"]).sort();

    receiver.fixed = true;
    const res = await admin("POST", "/dead-letters/redrive", { destinationId: ids.broken });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(() => receiver.at("/broken", true).length >= 2, "redriven deliveries");
    await waitFor(async () => (await job(id)).progress.delivered === 2, "job counts both delivered");
    const redriven = receiver.at("/broken", true);
    expect(redriven.every((r) => r.signatureValid)).toBe(true);
    expect(redriven.map((r) => r.headers["webhook-id"]).sort()).toEqual(firstIds);
    expect(redriven.every((r) => r.headers["okta-hooks-edge-replay-of"] === undefined)).toBe(true);
    expect(((await (await admin("GET", "/dead-letters")).json()) as { deadLetters: unknown[] }).deadLetters).toEqual([]);
  });

  it("backfills a destination created after the events were stored: dry run first, then the replay", async () => {
    await addDestination("late", "/late", { eventTypes: ["user.*"] });
    const dry = await admin("POST", "/replays", { filter: {}, destinationId: ids.late, dryRun: true });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ dryRun: true, events: 2, destinations: [{ destinationId: ids.late, events: 2, exact: true }] });
    const res = await admin("POST", "/replays", { filter: {}, destinationId: ids.late });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(() => receiver.at("/late").length >= 2, "backfilled deliveries");
    await waitFor(async () => (await job(id)).progress.delivered === 2, "job finished and delivered");
    expect(await job(id)).toMatchObject({ state: "finished", progress: { matched: 2, enqueued: 2, delivered: 2, failed: 0 } });
    const late = receiver.at("/late");
    expect(late.map((r) => r.uuid).sort()).toEqual([UUID.create, UUID.session].sort());
    expect(late.every((r) => r.signatureValid && typeof r.headers["okta-hooks-edge-replay-of"] === "string")).toBe(true);
  });

  it("replays one event to a destination that already had it: a new webhook-id naming the original", async () => {
    const original = receiver.at("/all").find((r) => r.uuid === UUID.session)!;
    const res = await admin("POST", "/replays", { eventUuid: UUID.session, destinationId: ids.all });
    expect(res.status).toBe(202);
    await waitFor(() => receiver.at("/all").filter((r) => r.uuid === UUID.session).length >= 2, "the replay");
    const replayed = receiver.at("/all").filter((r) => r.uuid === UUID.session)[1]!;
    expect(replayed.signatureValid).toBe(true);
    expect(replayed.headers["webhook-id"]).not.toBe(original.headers["webhook-id"]);
    expect(replayed.headers["okta-hooks-edge-replay-of"]).toBe(original.headers["webhook-id"]);
  });
});
