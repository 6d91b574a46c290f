/**
 * A large Okta delivery (Okta documents no maximum number of events per request) is stored as batches of at most
 * MAX_BATCH_EVENTS, so a search page that stops inside one reads a bounded number of rows: search reads whole
 * batches, about two D1 rows per event, and one 500-event batch made every page over it read a thousand.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BATCH_EVENTS } from "../../src/storage/events";
import { requestLines } from "../helpers/events";
import { envWith, oktaDelivery, postOktaDelivery, recordingQueue } from "../helpers/forwarding";
import { request } from "../helpers/gateway";

const EVENTS = 500;
const LONG = { timeout: 60_000 };
let uuids: string[] = [];

beforeAll(async () => {
  const delivery = oktaDelivery(
    "user.session.start",
    Array.from({ length: EVENTS }, (_, i) => (i % 5 === 0 ? { eventType: "user.lifecycle.create" } : {})),
  );
  expect(JSON.stringify(delivery.envelope).length).toBeGreaterThan(300_000);
  const res = await postOktaDelivery(delivery.envelope, envWith({ FORWARD_QUEUE: recordingQueue() }));
  expect(res.status).toBe(204);
  uuids = delivery.uuids;
}, LONG.timeout);

async function pages(query: Record<string, string>) {
  const seen: string[] = [];
  let cursor: string | null = null;
  let maxRowsRead = 0;
  for (let n = 0; n < 100; n++) {
    const params = new URLSearchParams({ limit: "50", ...query, ...(cursor ? { cursor } : {}) });
    const { result, lines } = await requestLines(() => request(`/admin/api/events?${params}`, { as: "admin" }));
    expect(result.status).toBe(200);
    const page = (await result.json()) as { events: Array<{ uuid: string }>; nextCursor: string | null };
    seen.push(...page.events.map((e) => e.uuid));
    maxRowsRead = Math.max(maxRowsRead, Number(lines[0]?.d1RowsRead ?? 0));
    cursor = page.nextCursor;
    if (cursor === null) return { seen, maxRowsRead };
  }
  throw new Error("the search did not end within 100 pages");
}

describe(`a delivery of ${EVENTS} events`, () => {
  it(`is stored as batches of at most ${MAX_BATCH_EVENTS} events, in order, in the one transaction`, async () => {
    const { results } = await env.DB.prepare("SELECT id, event_count, json_array_length(uuids) AS listed FROM event_batches ORDER BY id").all<{
      id: number;
      event_count: number;
      listed: number;
    }>();
    expect(results.map((b) => b.listed)).toEqual(Array.from({ length: EVENTS / MAX_BATCH_EVENTS }, () => MAX_BATCH_EVENTS));
    const listed = await env.DB.prepare("SELECT j.value AS uuid FROM event_batches b, json_each(b.uuids) j ORDER BY b.id, j.key").all<{ uuid: string }>();
    expect(listed.results.map((r) => r.uuid)).toEqual(uuids);
  });

  it("pages to the end, every event once and newest first, each page reading under 1,000 rows", LONG, async () => {
    const { seen, maxRowsRead } = await pages({});
    expect(seen).toEqual([...uuids].reverse());
    expect(maxRowsRead).toBeLessThan(1_000);
  });

  it("pages an exact type and a search matching nothing under 1,000 rows each", LONG, async () => {
    const typed = await pages({ type: "user.lifecycle.create" });
    expect(typed.seen).toEqual(uuids.filter((_, i) => i % 5 === 0).reverse());
    expect(typed.maxRowsRead).toBeLessThan(1_000);
    const none = await pages({ actor: "nobody@example.com" });
    expect(none.seen).toEqual([]);
    expect(none.maxRowsRead).toBeLessThan(1_000);
  });
});
