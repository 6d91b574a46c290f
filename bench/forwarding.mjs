// Forwarding figures of `npm run bench`: what forwarding costs per event as D1 and Queues report it, how many events
// per second flow from the queue to local receivers, and how long an event takes from Okta's POST to a receiver
// under a steady trickle. Receivers listen on 127.0.0.1 and answer 204; every phase is bounded in count and time.
import { createServer } from "node:http";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET } from "../test/e2e/gateway.ts";
import { forwardingCost, logLines, quantile } from "./log-lines.mjs";
import { deliveryEnvelope } from "./synthetic-events.mjs";

const EVENT_HEADERS = { "content-type": "application/json", authorization: E2E_EVENT_SECRET };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A receiver on 127.0.0.1: records the first arrival time of each (path, event uuid). */
export async function startReceiver() {
  const arrivals = new Map();
  let total = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => {
      try {
        const uuid = JSON.parse(Buffer.concat(chunks).toString("utf8")).data?.uuid;
        const key = `${req.url} ${uuid}`;
        if (uuid && !arrivals.has(key)) {
          arrivals.set(key, performance.now());
          total++;
        }
      } catch {
        // not ours
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: (p) => `http://127.0.0.1:${server.address().port}${p}`,
    arrivedAt: (p, uuid) => arrivals.get(`${p} ${uuid}`),
    count: () => total,
    reset: () => {
      arrivals.clear();
      total = 0;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function admin(gw, method, path, body) {
  const res = await fetch(`${gw.baseUrl}/admin/api${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/** `count` destinations for every event type, each at its own path of the receiver. */
async function withDestinations(gw, receiver, count, work) {
  const created = [];
  try {
    for (let i = 0; i < count; i++) {
      created.push(await admin(gw, "POST", "/destinations", { name: `bench ${i}`, url: receiver.url(`/d${i}`), eventTypes: ["*"] }));
    }
    return await work(created.map((_, i) => `/d${i}`));
  } finally {
    // The load after this must not fan out to receivers that are gone (retries would load the machine).
    for (const d of created) await admin(gw, "DELETE", `/destinations/${d.id}`);
  }
}

async function waitUntil(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(50);
  }
  return predicate();
}

/** POST `deliveries` (arrays of events) with `concurrency` at once; resolves to the uuids posted with their send time. */
async function post(gw, deliveries, concurrency) {
  const sent = [];
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length) {
        const events = deliveries[next++];
        const at = performance.now();
        const res = await fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers: EVENT_HEADERS, body: deliveryEnvelope(events) });
        if (res.status !== 204) failures++;
        await res.arrayBuffer();
        for (const e of events) sent.push({ uuid: e.uuid, at });
      }
    }),
  );
  if (failures > 0) throw new Error(`${failures} event POSTs were not answered 204`);
  return sent;
}

function batches(nextEvent, deliveries, size) {
  return Array.from({ length: deliveries }, () => Array.from({ length: size }, nextEvent));
}

/**
 * What forwarding `deliveries` × `size` events to `destinations` receivers costs, summed from the log lines of the
 * event POSTs, the queue batches and any cron run in the phase, as D1 reported them (index entries included).
 * Queue operations: Cloudflare bills a message written, read and deleted as 3 operations (per 64 KB).
 */
export async function forwardingCostPhase(gw, receiver, nextEvent, { destinations, deliveries, size }) {
  return withDestinations(gw, receiver, destinations, async (paths) => {
    receiver.reset();
    const from = gw.output().length;
    const sent = await post(gw, batches(nextEvent, deliveries, size), 2);
    const expected = sent.length * paths.length;
    const arrived = await waitUntil(() => receiver.count() >= expected, 120_000);
    await sleep(3_000); // the last queue batch's log line follows its D1 writes
    const cost = forwardingCost(logLines(gw.output().slice(from)));
    const events = sent.length;
    return {
      destinations: paths.length,
      deliverySize: size,
      events,
      allArrived: arrived,
      rowsWrittenPerEvent: cost.rowsWritten / events,
      rowsReadPerEvent: cost.rowsRead / events,
      queueMessagesPerEvent: cost.messages / events,
      queueOperationsPerEvent: (3 * cost.messages) / events,
    };
  });
}

/** Events per second from the first POST until every event reached every destination. */
export async function forwardingThroughput(gw, receiver, nextEvent, { destinations, deliveries, size, concurrency }) {
  return withDestinations(gw, receiver, destinations, async (paths) => {
    receiver.reset();
    const started = performance.now();
    const sent = await post(gw, batches(nextEvent, deliveries, size), concurrency);
    const expected = sent.length * paths.length;
    const arrived = await waitUntil(() => receiver.count() >= expected, 180_000);
    const seconds = (performance.now() - started) / 1000;
    return {
      destinations: paths.length,
      events: sent.length,
      deliveries: receiver.count(),
      allArrived: arrived,
      seconds,
      eventsPerSecond: sent.length / seconds,
      deliveriesPerSecond: receiver.count() / seconds,
    };
  });
}

/** POST → receiver latency of single-event deliveries sent every `intervalMs` for `seconds`. */
export async function trickleLatency(gw, receiver, nextEvent, { seconds, intervalMs }) {
  return withDestinations(gw, receiver, 1, async ([p]) => {
    receiver.reset();
    const sent = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const tick = performance.now();
      sent.push(...(await post(gw, [[nextEvent()]], 1)));
      await sleep(Math.max(0, intervalMs - (performance.now() - tick)));
    }
    await waitUntil(() => receiver.count() >= sent.length, 60_000);
    const ms = sent
      .map(({ uuid, at }) => receiver.arrivedAt(p, uuid) - at)
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    return { events: sent.length, arrived: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
  });
}
