/**
 * End to end, as Okta talks to a deployed gateway: the real Worker under `wrangler dev` (local D1 and Queues),
 * plain HTTP with the headers Okta sends (recorded in test/fixtures/okta/captured/*.headers.json).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_EVENT_SECRET, startGateway, type Gateway } from "./gateway";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/okta");
const fixture = (name: string) => readFileSync(path.join(fixtures, name), "utf8");

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.stop();
});

/** The headers Okta sent in a captured delivery, minus what the load balancer added, with our secret. */
function oktaHeaders(name: string): Record<string, string> {
  const recorded = JSON.parse(fixture(name)) as { headers: Record<string, string> };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(recorded.headers)) {
    if (k.startsWith("x-forwarded-") || k.startsWith("x-amzn-") || ["host", "connection", "content-length"].includes(k)) continue;
    headers[k] = v;
  }
  headers.authorization = E2E_EVENT_SECRET;
  return headers;
}

describe("event hooks over HTTP", () => {
  it("answers Okta's verification GET with the recorded body", async () => {
    const res = await fetch(`${gw.baseUrl}/hooks/events`, {
      headers: {
        "User-Agent": "Okta-Integrations",
        Accept: "application/json",
        "X-Okta-Request-Id": "XOZfPkReFFZ10KWyGkzAMwAAADA",
        "X-Okta-Verification-Challenge": "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg",
        "x-any-key": "my-header-value",
        Authorization: E2E_EVENT_SECRET,
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.text()).toBe(fixture("event-hook.verification.response.json").trimEnd());
  });

  it("stores captured deliveries once, with Okta's headers, and refuses what is wrong", async () => {
    const names = ["user-lifecycle-create", "user-lifecycle-delete-initiated", "user-account-update-profile"];
    for (const name of names) {
      const headers = oktaHeaders(`captured/event-hook.delivery.${name}.headers.json`);
      const body = fixture(`captured/event-hook.delivery.${name}.json`);
      for (let attempt = 0; attempt < 2; attempt++) {
        // Okta is at-least-once: the second POST is a redelivery.
        const res = await fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers, body });
        expect(res.status).toBe(204);
        expect(await res.text()).toBe("");
        expect(res.headers.get("x-request-id")).toBeTruthy();
      }
    }
    const unauthorized = await fetch(`${gw.baseUrl}/hooks/events`, {
      method: "POST",
      headers: { ...oktaHeaders("captured/event-hook.delivery.user-lifecycle-create.headers.json"), authorization: "wrong" },
      body: fixture("event-hook.delivery.user-session-start.json"),
    });
    expect(unauthorized.status).toBe(401);
    const malformed = await fetch(`${gw.baseUrl}/hooks/events`, {
      method: "POST",
      headers: oktaHeaders("captured/event-hook.delivery.user-lifecycle-create.headers.json"),
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { code: "malformed_json", message: "The request body is not valid JSON." } });

    const rows = await gw.query<{ uuid: string; event_type: string; actor_alternate_id: string; forward: number }>(
      "SELECT uuid, event_type, actor_alternate_id, forward FROM events ORDER BY event_type",
    );
    // To forward (1), or — once the isolate has read the (empty) destinations — wanted by no destination (2).
    const forwardable = expect.toBeOneOf([1, 2]);
    expect(rows).toEqual([
      { uuid: "04b1f1d4-4bbf-11ec-82ee-e73dada86765", event_type: "user.account.update_profile", actor_alternate_id: "loki.laufeyson@example.com", forward: forwardable },
      { uuid: "9191ef7a-f669-11e9-b9b3-fd3a55cb1b10", event_type: "user.lifecycle.create", actor_alternate_id: "system@okta.com", forward: forwardable },
      expect.objectContaining({ event_type: "user.lifecycle.delete.initiated", forward: forwardable }),
    ]);
  });

  it("writes one structured log line per request, without the secret", async () => {
    const lines = gw
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "request" && l.route === "/hooks/events" && l.method === "POST" && l.status === 204);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    // The isolate's first delivery: no routing copy yet, so its batch goes to the outbox, to be enqueued.
    expect(lines[0]).toMatchObject({ level: "info", stored: 1, duplicates: 0, events: 1, batchId: expect.any(Number) });
    expect(lines[1]).toMatchObject({ stored: 0, duplicates: 1 });
    expect(gw.output()).not.toContain(E2E_EVENT_SECRET);
  });
});
