/**
 * The Worker killed mid-load and started again (docs/forwarding.md "Operations"): `wrangler dev` is SIGKILLed while
 * Okta deliveries are arriving and forwarding is under way, then started on the same --persist-to directory. Local
 * D1 survives; local queues live in memory, so every message in flight — batches to fan out, retries of failed
 * attempts — is lost, and fan-outs cut short leave their leases behind. The outbox sweep, triggered as the cron
 * (/cdn-cgi/local/scheduled), must recover every event: each one Okta was answered 204 for, and each one Okta
 * retried because its request got no answer, is stored once and reaches both receivers (at least once; a repeat
 * carries the same webhook-id).
 *
 * The restart is made to last 40 minutes, longer than the sweep's grace for a lost batch message (30 min) and a
 * fan-out's lease (10 min): while the gateway is down, every scheduling time in D1 (outbox and deliveries) is moved
 * 40 minutes into the past — workerd's clock cannot be moved from outside.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../e2e/gateway.ts";
import { admin, missing, OktaLoad, SigningReceiver, waitUntil } from "./okta-load.ts";

const VARS = { ALLOW_INSECURE_DESTINATIONS: "true", FORWARD_RETRY_BASE_SECONDS: "1", DESTINATION_DISABLE_AFTER_FAILURES: "100000" };
const LOAD = { clients: 4, durationMs: 60_000, maxRequests: 400, seed: 9_112_026 };
/** How long the load runs before the crash. */
const CRASH_AFTER_MS = 6_000;
const RESTART_LASTS_MS = 40 * 60_000;
const RECOVERY_TIMEOUT_MS = 90_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the Worker restarted mid-load", () => {
  const receiver = new SigningReceiver((routePath, _uuid, before) => (routePath === "/flaky" && before === 0 ? 503 : 204));
  const persistTo = mkdtempSync(path.join(tmpdir(), "okta-hooks-edge-restart-"));
  let first: Gateway | undefined;
  let second: Gateway | undefined;
  let load: OktaLoad;
  let lostWork: { outbox: number; open: number };
  const retried: Array<number | null> = [];
  let sweepStatus = 0;
  let recovered = false;

  beforeAll(async () => {
    await receiver.start();
    first = await startGateway({ persistTo, vars: VARS });
    for (const name of ["all", "flaky"]) {
      const res = await admin(first.baseUrl, "POST", "/destinations", { name, url: receiver.url(`/${name}`) });
      expect(res.status).toBe(201);
      receiver.trust(`/${name}`, ((await res.json()) as { secret: string }).secret);
    }
    let current: Gateway = first;
    load = new OktaLoad(() => current.baseUrl, LOAD);
    const running = load.run();
    await sleep(CRASH_AFTER_MS);
    // No new requests; those in flight are cut by the crash (Okta sees no answer and will retry them).
    load.stop();
    await first.crash();
    await running;

    // Down: what the crash left for the sweep, then 40 minutes pass.
    [lostWork = { outbox: 0, open: 0 }] = await first.query<{ outbox: number; open: number }>(
      "SELECT (SELECT count(*) FROM forward_outbox) AS outbox, (SELECT count(*) FROM deliveries WHERE state IN ('pending', 'failed')) AS open",
    );
    await first.query(
      `UPDATE forward_outbox SET created_at = created_at - ${RESTART_LASTS_MS}, enqueued_at = enqueued_at - ${RESTART_LASTS_MS},
         lease_until = lease_until - ${RESTART_LASTS_MS};
       UPDATE deliveries SET next_attempt_at = next_attempt_at - ${RESTART_LASTS_MS}, lease_until = lease_until - ${RESTART_LASTS_MS},
         created_at = created_at - ${RESTART_LASTS_MS}, updated_at = updated_at - ${RESTART_LASTS_MS};`,
    );

    second = await startGateway({ persistTo, port: Number(new URL(first.baseUrl).port), vars: VARS });
    current = second;
    // Okta retries each delivery that got no answer.
    for (const envelope of load.unanswered.splice(0)) retried.push(await load.post(envelope));
    sweepStatus = (await second.runScheduled()).status;
    const everywhere = () =>
      missing(load.sent, receiver.acceptedCounts("/all")).length === 0 && missing(load.sent, receiver.acceptedCounts("/flaky")).length === 0;
    recovered = await waitUntil(everywhere, RECOVERY_TIMEOUT_MS);
  }, 400_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    await receiver.stop();
    rmSync(persistTo, { recursive: true, force: true });
  });

  it("was killed with work in flight: batches still in the outbox or retries still open", () => {
    expect(load.requests).toBeGreaterThan(20);
    expect(lostWork.outbox + lostWork.open).toBeGreaterThan(0);
  });

  it("answered every delivery it received 204, before and after the restart; Okta's retries of unanswered ones too", () => {
    expect(load.refusals).toEqual([]);
    expect([...load.statuses.keys()]).toEqual([204]);
    expect(retried.every((status) => status === 204)).toBe(true);
    expect(load.unanswered).toEqual([]);
    expect(load.accepted).toEqual(load.sent);
  });

  it("stores every event once, nothing half-stored, and the sweep leaves nothing behind", async () => {
    const rows = await second!.query<{ kind: string; value: string | number }>(
      `SELECT 'event' AS kind, uuid AS value FROM events
       UNION ALL
       SELECT 'orphans', count(*) FROM events e LEFT JOIN event_batches b ON b.id = e.batch_id
       WHERE b.id IS NULL OR e.id < b.first_event_id OR e.id >= b.first_event_id + b.event_count
       UNION ALL
       SELECT 'outbox', count(*) FROM forward_outbox
       UNION ALL
       SELECT 'open', count(*) FROM deliveries WHERE state <> 'delivered'`,
    );
    const stored = rows.filter((r) => r.kind === "event").map((r) => r.value as string);
    expect(stored.length).toBe(load.sent.size);
    expect(new Set(stored)).toEqual(load.sent);
    expect(rows.filter((r) => r.kind !== "event")).toEqual([
      { kind: "orphans", value: 0 },
      { kind: "outbox", value: 0 },
      { kind: "open", value: 0 },
    ]);
  });

  it("the sweep recovers every event: each reaches both receivers, signed, repeats under one webhook-id", () => {
    expect(sweepStatus).toBe(200);
    // The sweep is what recovered the lost work: it re-enqueued batches or deliveries.
    const swept = /"msg":"outbox sweep","batches":(\d+),"deliveries":(\d+)/.exec(second!.output());
    expect(swept).not.toBeNull();
    expect(Number(swept![1]) + Number(swept![2])).toBeGreaterThan(0);
    console.log(`restart: ${load.requests} requests, ${load.sent.size} events, ${retried.length} retried; left in D1: ${JSON.stringify(lostWork)}; swept: ${swept![0]}`);
    expect(recovered, `missing at /all: ${missing(load.sent, receiver.acceptedCounts("/all")).length}, at /flaky: ${missing(load.sent, receiver.acceptedCounts("/flaky")).length}`).toBe(true);
    for (const routePath of ["/all", "/flaky"]) {
      expect(new Set(receiver.acceptedCounts(routePath).keys())).toEqual(load.sent);
      expect([...receiver.webhookIds(routePath).values()].every((ids) => ids.size === 1)).toBe(true);
    }
    expect(receiver.requests.every((r) => r.signatureValid)).toBe(true);
  });
});
