/**
 * Forwarding when things around it fail, and what it never leaks: the dead-letter queue is down, D1 is down
 * mid-delivery, and no log line, response or attempt record carries a signing secret or an okta auth value.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  adminCall,
  attempt,
  clearForwarding,
  createDestination,
  deliveryRow,
  openDeliveries,
  storeEvent,
  stubDestinations,
} from "../helpers/forwarding";

import { failingDatabase } from "../helpers/worker";

beforeEach(clearForwarding);
afterEach(() => {
  vi.restoreAllMocks();
});

describe("outages around the consumer", () => {
  it("a dead delivery's dead letter is written in D1 with its dead state: a dead-letter queue outage changes nothing", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => new Response(null, { status: 422 }));
    const { result, batch } = await attempt(uuid, d.id, { deadLetterQueueFails: true });
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    const row = await env.DB.prepare("SELECT reason, attempts FROM dead_letters WHERE event_uuid = ?1 AND destination_id = ?2")
      .bind(uuid, d.id)
      .first<{ reason: string; attempts: number }>();
    expect(row).toEqual({ reason: "permanent failure: HTTP 422", attempts: 1 });
  });

  it("D1 down: the message is retried with a delay (not acked, not the whole batch), and nothing is sent", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 200 }));
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { result, batch } = await attempt(uuid, d.id, { env: { DB: failingDatabase() } });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([batch.messages[0]!.id]);
    expect(captured).toHaveLength(0);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"msg":"forward message failed; retrying"'));
    // Once D1 is back the same delivery goes through.
    await attempt(uuid, d.id);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("delivered");
  });

  it("D1 failing after the claim: the lease is released so the retry can attempt it", async () => {
    const d = await createDestination({});
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    // The event read fails once (after the delivery was claimed).
    const realPrepare = env.DB.prepare.bind(env.DB);
    let failed = false;
    const flaky = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            if (!failed && sql.includes("FROM events e")) {
              failed = true;
              throw new Error("D1_ERROR: simulated blip");
            }
            return realPrepare(sql);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { result } = await attempt(uuid, d.id, { env: { DB: flaky } });
    expect(result.retryMessages).toHaveLength(1);
    expect(failed).toBe(true);
    const row = await env.DB.prepare("SELECT lease_until FROM deliveries WHERE event_uuid = ?1").bind(uuid).first<{ lease_until: number | null }>();
    expect(row?.lease_until).toBeNull();
    stubDestinations(() => new Response(null, { status: 200 }));
    await attempt(uuid, d.id);
    expect((await deliveryRow(uuid, d.id))?.state).toBe("delivered");
  });
});

describe("secrets stay secret", () => {
  it("no log line, later response or attempt record carries a signing secret or an okta auth value", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const okta = await createDestination({ format: "okta", oktaAuth: { header: "x-receiver-auth", value: "okta-auth-value-must-not-leak" } });
    const standard = await createDestination({});
    const rotated = (await (await adminCall("POST", `/destinations/${standard.id}/rotate-secret`)).json()) as { secret: string };
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    stubDestinations(() => new Response("echo: okta-auth-value-must-not-leak", { status: 500 }));
    await attempt(uuid, okta.id);
    await attempt(uuid, standard.id);
    const responses = [
      await (await adminCall("GET", "/destinations")).text(),
      await (await adminCall("GET", `/destinations/${okta.id}`)).text(),
      await (await adminCall("GET", `/events/${uuid}/deliveries`)).text(),
    ];
    const { results } = await env.DB.prepare("SELECT * FROM delivery_attempts UNION ALL SELECT NULL, event_uuid, destination_id, attempts, updated_at, last_status, 0, state, last_error, job_id FROM deliveries").all();
    const haystack = [...lines, ...responses, JSON.stringify(results)].join("\n");
    expect(lines.length).toBeGreaterThan(5);
    for (const secret of [okta.secret, standard.secret, rotated.secret, "okta-auth-value-must-not-leak"]) {
      expect(haystack).not.toContain(secret);
    }
    expect(haystack).not.toContain("whsec_");
  });
});
