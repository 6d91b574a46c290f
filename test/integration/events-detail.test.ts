/**
 * GET /admin/api/events/{uuid}: the event's columns, Okta's exact payload bytes, and where it went (the same read
 * model as /deliveries: first-attempt successes and every attempt of what failed). 404s, a payload that cannot
 * be read, and the security group.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adminCall,
  call,
  clearForwarding,
  createDestination,
  EVENT_HOOK_HEADERS,
  envWith,
  fanOut,
  oktaDelivery,
  postOktaDelivery,
  recordingQueue,
  stubDestinations,
} from "../helpers/forwarding";
import { request } from "../helpers/gateway";

beforeEach(clearForwarding);
afterEach(() => (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.());

interface Detail {
  uuid: string;
  eventType: string;
  published: string | null;
  receivedAt: string;
  actorId: string | null;
  actorAlternateId: string | null;
  outcomeResult: string | null;
  oktaOrg: string | null;
  eventHookId: string | null;
  envelopeEventId: string | null;
  forwardState: string;
  payload: Record<string, unknown> | null;
  deliveries: Array<Record<string, unknown>>;
}

describe("event detail", () => {
  it("answers the columns, Okta's exact bytes and the deliveries of a forwarded event", async () => {
    const ok = await createDestination({ name: "ok" });
    const failing = await createDestination({ name: "failing", url: "https://failing.example.com/hook" });
    const { envelope, uuids } = oktaDelivery("user.lifecycle.create");
    // Numbers JavaScript cannot hold, in the event itself: the detail must answer them as Okta sent them.
    const body = JSON.stringify(envelope).replace(`"uuid":"${uuids[0]}"`, `"uuid":"${uuids[0]}","riskScore":1e400,"bigId":12345678901234567890123`);
    const stored = await call("/hooks/events", { method: "POST", headers: EVENT_HOOK_HEADERS, body }, envWith({ FORWARD_QUEUE: recordingQueue() }));
    expect(stored.status).toBe(204);
    stubDestinations((r) => new Response(null, { status: r.url.includes("failing") ? 503 : 204 }));
    await fanOut(uuids[0]!);

    const res = await adminCall("GET", `/events/${uuids[0]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text).toContain('"riskScore":1e400,"bigId":12345678901234567890123');
    const detail = JSON.parse(text) as Detail;
    const event = envelope.data.events[0]!;
    expect(detail).toMatchObject({
      uuid: uuids[0],
      eventType: "user.lifecycle.create",
      published: new Date(event.published).toISOString(),
      actorId: event.actor.id,
      actorAlternateId: event.actor.alternateId,
      outcomeResult: event.outcome.result,
      oktaOrg: new URL(envelope.source).host,
      envelopeEventId: envelope.eventId,
      forwardState: "fanned_out",
    });
    expect(detail.payload).toMatchObject({ uuid: uuids[0], eventType: "user.lifecycle.create", actor: event.actor });

    const deliveries = (await (await adminCall("GET", `/events/${uuids[0]}/deliveries`)).json()) as { deliveries: unknown[] };
    expect(detail.deliveries).toEqual(deliveries.deliveries);
    const byName = Object.fromEntries(detail.deliveries.map((d) => [d.destinationName, d]));
    expect(byName.ok).toMatchObject({ destinationId: ok.id, state: "delivered", attempts: 1, jobId: null });
    expect(byName.failing).toMatchObject({ destinationId: failing.id, state: "failed", attempts: 1, lastStatus: 503, jobId: null });
    expect(byName.failing!.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, status: 503, outcome: "retry", jobId: null }),
    ]);
  });

  it("says pending while the event's batch waits for fan-out", async () => {
    await createDestination({});
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    const detail = (await (await adminCall("GET", `/events/${uuids[0]}`)).json()) as Detail;
    expect(detail.forwardState).toBe("pending");
    expect(detail.deliveries).toEqual([]);
  });

  it("answers 200 with payload null when the stored payload cannot be read (never a 500)", async () => {
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    await env.DB.prepare("UPDATE event_payloads SET data = x'ff00' WHERE batch_id = (SELECT batch_id FROM events WHERE uuid = ?1)").bind(uuids[0]).run();
    const res = await adminCall("GET", `/events/${uuids[0]}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as Detail;
    expect(detail.payload).toBeNull();
    expect(detail.uuid).toBe(uuids[0]);
  });

  it("404 for an unknown uuid, an overlong one, and an odd one", async () => {
    for (const uuid of ["no-such-event", "x".repeat(300), "%F0%9F%98%80", "a%00b"]) {
      for (const path of [`/events/${uuid}`, `/events/${uuid}/deliveries`]) {
        const res = await adminCall("GET", path);
        expect(res.status, path).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
      }
    }
  });

  it("401 without the admin token or with a wrong one, and nothing about the event leaks", async () => {
    const { envelope, uuids } = oktaDelivery("user.session.start");
    expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
    for (const headers of [{}, { authorization: "Bearer nope" }] as Array<Record<string, string>>) {
      const res = await request(`/admin/api/events/${uuids[0]}`, { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain(uuids[0]);
    }
  });
});
