/**
 * A fan-out never outlives its outbox lease (src/queue/fan-out.ts, FAN_OUT_SEND_BUDGET_MS): first attempts whose
 * turn for one of the invocation's six connections comes too late — behind destinations that hang until their
 * timeout — are not made by the fan-out but left to a delivery message each. Before, such a fan-out could run past
 * its 10-minute lease; the sweeper then re-enqueued the batch and a second fan-out sent every event again to the
 * destinations that had already answered. The same holds for a retry: a claimed delivery whose turn comes too late
 * is given back and sent by a new message, so its send never runs past its lease (where a duplicate message could
 * claim and send it at the same time).
 */
import { env } from "cloudflare:workers";
import { afterEach, expect, it, vi } from "vitest";
import { FAN_OUT_SEND_BUDGET_MS } from "../../src/queue/fan-out";
import { SEND_LATE_DELAY_SECONDS, SEND_START_MS } from "../../src/queue/forward";
import {
  batchOf,
  clearForwarding,
  consume,
  createDestination,
  createSlowDestinations,
  envWith,
  FORWARD_QUEUE_NAME,
  oktaDelivery,
  openDeliveries,
  postOktaDelivery,
  recordingQueue,
  storeEvent,
  stubHangingDestinations,
} from "../helpers/forwarding";

afterEach(() => {
  vi.restoreAllMocks();
});

it("first attempts whose turn comes after the send budget become pending deliveries, each sent once by its own message", async () => {
  await clearForwarding();
  // Six destinations that hang take every connection; the seventh waits for a turn (destinations are attempted in
  // the order they were created).
  await createSlowDestinations();
  const fast = await createDestination({ name: "fast", url: "https://fast.example.com/hook" });
  const { release, captured } = stubHangingDestinations();
  const { envelope, uuids } = oktaDelivery("user.session.start");
  expect((await postOktaDelivery(envelope, envWith({ FORWARD_QUEUE: recordingQueue() }))).status).toBe(204);
  const batchId = await batchOf(uuids[0]!);

  const fanOut = consume(FORWARD_QUEUE_NAME, [{ kind: "batch", batchId }]);
  await vi.waitFor(() => expect(release).toHaveLength(6));
  // The slow sends end after the budget: the clock moves past it, then they answer and the fast one's turn comes.
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + FAN_OUT_SEND_BUDGET_MS + 1_000);
  for (const answer of release) answer();
  const { forwarded } = await fanOut;

  // The fan-out ended without sending to the fast destination; the batch left the outbox; a pending delivery and
  // its message (due now) stand in for the first attempt.
  expect(captured.filter((r) => r.url.startsWith("https://fast."))).toHaveLength(0);
  expect(await env.DB.prepare("SELECT count(*) AS n FROM forward_outbox").first<{ n: number }>()).toEqual({ n: 0 });
  const row = await env.DB.prepare("SELECT state, attempts FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2").bind(uuids[0], fast.id).first();
  expect(row).toEqual({ state: "pending", attempts: 0 });
  expect(forwarded).toEqual([{ kind: "delivery", uuid: uuids[0], destinationId: fast.id }]);

  // Its message makes the first attempt: the fast destination gets the event once.
  await consume(FORWARD_QUEUE_NAME, forwarded);
  expect(captured.filter((r) => r.url.startsWith("https://fast."))).toHaveLength(1);
  expect(await env.DB.prepare("SELECT state, attempts FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2").bind(uuids[0], fast.id).first()).toEqual({
    state: "delivered",
    attempts: 1,
  });
  // The six slow ones were delivered by the fan-out itself.
  expect(captured.filter((r) => r.url.startsWith("https://slow-"))).toHaveLength(6);
});

it("a retry whose turn for a connection comes too late is given back, not attempted, and sent once by a new message", async () => {
  await clearForwarding();
  const slow = await createSlowDestinations();
  const fast = await createDestination({ name: "fast", url: "https://fast.example.com/hook" });
  const uuid = await storeEvent();
  await openDeliveries(uuid);
  const { release, captured } = stubHangingDestinations();
  const messages = [...slow, fast.id].map((destinationId) => ({ kind: "delivery" as const, uuid, destinationId }));
  const running = consume(FORWARD_QUEUE_NAME, messages);
  await vi.waitFor(() => expect(release).toHaveLength(6));
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + SEND_START_MS + 1_000);
  for (const answer of release) answer();
  const { result, batch, forwarded, forwardedDelays } = await running;

  expect(captured.filter((r) => r.url.startsWith("https://fast."))).toHaveLength(0);
  // Every message acked (none left to the platform's retries); the fast one's delivery given back, unattempted.
  expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
  expect(forwarded).toEqual([{ kind: "delivery", uuid, destinationId: fast.id }]);
  expect(forwardedDelays).toEqual([SEND_LATE_DELAY_SECONDS]);
  const row = () => env.DB.prepare("SELECT state, attempts, lease_until FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2").bind(uuid, fast.id).first();
  expect(await row()).toEqual({ state: "pending", attempts: 0, lease_until: null });
  const attempts = await env.DB.prepare("SELECT count(*) AS n FROM delivery_attempts WHERE destination_id = ?1").bind(fast.id).first<{ n: number }>();
  expect(attempts?.n).toBe(0);

  await consume(FORWARD_QUEUE_NAME, forwarded);
  expect(captured.filter((r) => r.url.startsWith("https://fast."))).toHaveLength(1);
  expect(await row()).toEqual({ state: "delivered", attempts: 1, lease_until: null });
});

it("a retry given back too late leaves alone the lease a copy of its message took meanwhile: the delivery is sent once", async () => {
  await clearForwarding();
  const slow = await createSlowDestinations();
  const target = await createDestination({ name: "target", url: "https://target.example.com/hook", timeoutMs: 10_000 });
  const uuid = await storeEvent();
  await openDeliveries(uuid);
  const { release, captured } = stubHangingDestinations((url) => !url.startsWith("https://fast."));
  const sentToTarget = () => captured.filter((r) => r.url.startsWith("https://target.")).length;
  // The first message of the target's delivery waits behind six hanging destinations, past its own lease.
  const first = consume(FORWARD_QUEUE_NAME, [...slow, target.id].map((destinationId) => ({ kind: "delivery" as const, uuid, destinationId })));
  await vi.waitFor(() => expect(release).toHaveLength(6));
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + 10_000 + 30_000 + 1_000);
  // A copy of the message claims the delivery (the lease ran out) and is sending it, in another invocation.
  const copy = consume(FORWARD_QUEUE_NAME, [{ kind: "delivery", uuid, destinationId: target.id }]);
  await vi.waitFor(() => expect(sentToTarget()).toBe(1));
  // The first message's turn comes: too late, it sends nothing and gives the delivery back with a new message.
  for (const answer of release.splice(0, 6)) answer();
  const { forwarded } = await first;
  expect(forwarded).toEqual([{ kind: "delivery", uuid, destinationId: target.id }]);
  // That new message arrives while the copy is still sending: it must not claim the delivery and send it again.
  let againDone = false;
  const again = consume(FORWARD_QUEUE_NAME, forwarded).then((r) => ((againDone = true), r));
  // It either ends (it found the delivery held) or sends (and hangs like the copy).
  await vi.waitFor(() => expect(againDone || sentToTarget() > 1).toBe(true));
  expect(sentToTarget()).toBe(1);
  for (const answer of release.splice(0)) answer();
  await Promise.all([copy, again]);
  expect(sentToTarget()).toBe(1);
  expect(await env.DB.prepare("SELECT state, attempts FROM deliveries WHERE event_uuid = ?1 AND destination_id = ?2").bind(uuid, target.id).first()).toEqual({
    state: "delivered",
    attempts: 1,
  });
});
