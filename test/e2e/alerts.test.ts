/**
 * End to end (docs/operations.md "Alerts"): the real Worker (`wrangler dev`, local D1 and Queues) forwards an Okta
 * delivery to a receiver that is down until the gateway disables it; the alert destination, a real HTTP server on
 * 127.0.0.1, then receives one signed `gateway.alert`, verified with an independent Standard Webhooks
 * implementation (the `standardwebhooks` package), and /healthz with the admin token shows the disabled
 * destination and the delivered alert.
 *
 * ALERT_DESTINATION_ID names a destination, whose id the gateway assigns when it is created, so the gateway is
 * started once to create the destinations and again, on the same local state, with the variable set. Every wait is
 * bounded in time and in rounds.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, startGateway, type Gateway } from "./gateway.js";

const SESSION_START = readFileSync(path.resolve(import.meta.dirname, "../fixtures/okta/event-hook.delivery.user-session-start.json"), "utf8");
const VARS = { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1", DESTINATION_DISABLE_AFTER_FAILURES: "2", DESTINATION_DISABLE_AFTER_MINUTES: "0" };

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** /down answers 503 to everything; /alerts 204. Every request is recorded. */
async function startReceiver(): Promise<{ server: Server; port: number; requests: Received[] }> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const routePath = (req.url ?? "/").split("?")[0]!;
      requests.push({ path: routePath, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(routePath === "/alerts" ? 204 : 503).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0, requests };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 60_000, rounds = 240): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describe("a destination disabled after consecutive failures raises a signed alert, end to end", () => {
  const persistTo = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-e2e-alerts-"));
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let gw: Gateway | undefined;
  const created: Record<string, { id: string; secret: string }> = {};

  const admin = (method: string, urlPath: string, body?: unknown) =>
    fetch(`${gw!.baseUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    receiver = await startReceiver();
    gw = await startGateway({ persistTo, vars: VARS });
    for (const [name, routePath, extra] of [
      ["on-call", "/alerts", { eventTypes: ["gateway.alert"] }],
      ["crm", "/down/crm-token-in-path", {}],
    ] as const) {
      const res = await admin("POST", "/admin/api/destinations", { name, url: `http://127.0.0.1:${receiver.port}${routePath}`, ...extra });
      expect(res.status, await res.clone().text()).toBe(201);
      created[name] = (await res.json()) as { id: string; secret: string };
    }
    await gw.stop(); // the state stays: this test owns persistTo
    gw = await startGateway({ persistTo, vars: { ...VARS, ALERT_DESTINATION_ID: created["on-call"]!.id } });

    // One Okta delivery of three events: its failed first attempts count as one failure of "crm", the first retry
    // that fails is the second, which disables it (threshold 2); the other retries find it disabled, or were in
    // flight and count after the disable.
    const envelope = JSON.parse(SESSION_START) as { eventId: string; data: { events: Array<{ uuid: string }> } };
    const event = envelope.data.events[0]!;
    envelope.data.events = [0, 1, 2].map((i) => ({ ...event, uuid: `e2e-alert-${i}-${crypto.randomUUID()}` }));
    const res = await fetch(`${gw.baseUrl}/hooks/events`, {
      method: "POST",
      headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json" },
      body: JSON.stringify(envelope),
    });
    expect(res.status).toBe(204);
    await waitFor(() => receiver.requests.some((r) => r.path === "/alerts"), "the alert");
    // Long enough for a wrong second alert, or one per failed attempt, to show up (retries are 1 s apart).
    await new Promise((r) => setTimeout(r, 5_000));
  }, 240_000);

  afterAll(async () => {
    await gw?.stop();
    rmSync(persistTo, { recursive: true, force: true });
    await new Promise<void>((resolve) => (receiver ? receiver.server.close(() => resolve()) : resolve()));
  });

  it("the alert destination receives exactly one alert, signed, naming the destination, with nothing secret in it", () => {
    const alerts = receiver.requests.filter((r) => r.path === "/alerts");
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    const verified = new Webhook(created["on-call"]!.secret).verify(alert.body, {
      "webhook-id": String(alert.headers["webhook-id"]),
      "webhook-timestamp": String(alert.headers["webhook-timestamp"]),
      "webhook-signature": String(alert.headers["webhook-signature"]),
    }) as { type: string; data: Record<string, unknown> };
    expect(verified.type).toBe("gateway.alert");
    expect(verified.data).toMatchObject({
      eventType: "gateway.alert",
      kind: "destination.disabled",
      subject: { type: "destination", id: created.crm!.id, name: "crm" },
      reason: "disabled automatically after 2 consecutive failed attempts",
      figures: { consecutiveFailures: 2 },
    });
    for (const secret of [created["on-call"]!.secret, created.crm!.secret, "crm-token-in-path", E2E_EVENT_SECRET, E2E_ADMIN_TOKEN]) {
      expect(alert.body).not.toContain(secret);
    }
    // The alert destination got no Okta event (its filter is gateway.alert); the failing one got the three first
    // attempts and at least the retry that disabled it.
    expect(receiver.requests.filter((r) => r.path.startsWith("/down")).length).toBeGreaterThanOrEqual(4);
  });

  it("/healthz shows the disabled destination since when and the alert as delivered", async () => {
    const res = await admin("GET", "/healthz");
    expect(res.status).toBe(200);
    const health = (await res.json()) as {
      status: string;
      disabledDestinations: Array<{ id: string; disabledAt: string | null }>;
      backlog: { deliveries: { waiting: number; retrying: number } };
      alerts: { destinationId: string; recent: Array<{ kind: string; subject: string; state: string }> };
    };
    expect(health.status).toBe("degraded");
    expect(health.disabledDestinations).toEqual([expect.objectContaining({ id: created.crm!.id, disabledAt: expect.any(String) })]);
    // Its deliveries wait for it to be re-enabled (a retry in flight at the disable waits after its next attempt).
    expect(health.backlog.deliveries.waiting + health.backlog.deliveries.retrying).toBe(3);
    expect(health.backlog.deliveries.waiting).toBeGreaterThanOrEqual(1);
    expect(health.alerts.destinationId).toBe(created["on-call"]!.id);
    expect(health.alerts.recent).toEqual([expect.objectContaining({ kind: "destination.disabled", subject: created.crm!.id, state: "delivered" })]);
    // The anonymous answer says degraded and nothing more.
    expect(await (await fetch(`${gw!.baseUrl}/healthz`)).json()).toEqual({ status: "degraded" });
  });
});
