/**
 * Destination secrets at rest (project standard: no secret in a D1 row): the admin API seals the signing secret,
 * the previous one and the okta auth value with SECRETS_ENCRYPTION_KEY; forwarding opens them right before signing.
 * Without a usable key nothing is stored (503), and a delivery whose secrets cannot be opened is retried, not lost.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signV1 } from "../../src/forwarding/signing";
import {
  ADMIN_HEADERS,
  adminCall,
  attempt,
  attemptRows,
  clearForwarding,
  createDestination,
  deliveryRow,
  envWith,
  openDeliveries,
  FORWARD_QUEUE_NAME,
  message,
  openStoredSecret,
  runWorkerQueue,
  storeEvent,
  stubDestinations,
} from "../helpers/forwarding";
import { BASE, callWorker } from "../helpers/worker";
import { TEST_SECRETS_ENCRYPTION_KEY } from "../test-config";

/** Another valid key: base64 of "okta-hooks-edge-old-key-32bytes!". */
const OLD_KEY = "b2t0YS1ob29rcy1lZGdlLW9sZC1rZXktMzJieXRlcyE=";
const OKTA_AUTH_VALUE = "receiver-shared-secret-value";
const NEW_OKTA_AUTH_VALUE = "receiver-shared-secret-value-2";

async function destinationRowsJson(): Promise<string> {
  const { results } = await env.DB.prepare("SELECT * FROM destinations ORDER BY id").all();
  return JSON.stringify(results);
}

async function expectNotConfigured(res: Response) {
  expect(res.status).toBe(503);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("not_configured");
  expect(body.error.message).toContain("SECRETS_ENCRYPTION_KEY");
}

beforeEach(clearForwarding);
afterEach(() => {
  (globalThis.fetch as unknown as { mockRestore?: () => void }).mockRestore?.();
  vi.restoreAllMocks();
});

describe("no clear secret in a destinations row", () => {
  it("after create, rotate and okta auth update (both formats), rows hold only sealed values that open", async () => {
    const standard = await createDestination({ name: "standard" });
    const okta = await createDestination({ name: "okta", format: "okta", oktaAuth: { header: "X-Receiver-Auth", value: OKTA_AUTH_VALUE } });
    const rotated = (await (await adminCall("POST", `/destinations/${standard.id}/rotate-secret`, {})).json()) as { secret: string };
    const oktaRotated = (await (await adminCall("POST", `/destinations/${okta.id}/rotate-secret`, { gracePeriodSeconds: 60 })).json()) as {
      secret: string;
    };
    const patched = await adminCall("PATCH", `/destinations/${okta.id}`, { oktaAuth: { header: "X-Receiver-Auth", value: NEW_OKTA_AUTH_VALUE } });
    expect(patched.status).toBe(200);

    const dump = await destinationRowsJson();
    for (const clear of [standard.secret, rotated.secret, okta.secret, oktaRotated.secret, OKTA_AUTH_VALUE, NEW_OKTA_AUTH_VALUE, "whsec_"]) {
      expect(dump).not.toContain(clear);
    }
    // And not the secrets' key bytes in another spelling either.
    for (const secret of [standard.secret, rotated.secret]) expect(dump).not.toContain(secret.slice("whsec_".length, 20));
    const { results } = await env.DB.prepare("SELECT signing_secret, previous_signing_secret, okta_auth_value FROM destinations").all<
      Record<string, string | null>
    >();
    for (const row of results) {
      expect(row.signing_secret).toMatch(/^enc:v1:[0-9a-f]{8}:/);
      expect(row.previous_signing_secret).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    }
    expect(await openStoredSecret(standard.id, "signing_secret")).toBe(rotated.secret);
    expect(await openStoredSecret(standard.id, "previous_signing_secret")).toBe(standard.secret);
    expect(await openStoredSecret(okta.id, "signing_secret")).toBe(oktaRotated.secret);
    expect(await openStoredSecret(okta.id, "previous_signing_secret")).toBe(okta.secret);
    expect(await openStoredSecret(okta.id, "okta_auth_value")).toBe(NEW_OKTA_AUTH_VALUE);
    expect(await openStoredSecret(standard.id, "okta_auth_value")).toBeNull();
  });

  it("a sealed value copied to another row or column does not open (bound to its column and destination)", async () => {
    const a = await createDestination({ name: "a", format: "okta", oktaAuth: { value: OKTA_AUTH_VALUE } });
    const b = await createDestination({ name: "b" });
    await env.DB.prepare("UPDATE destinations SET signing_secret = (SELECT signing_secret FROM destinations WHERE id = ?1) WHERE id = ?2")
      .bind(a.id, b.id)
      .run();
    await expect(openStoredSecret(b.id, "signing_secret")).rejects.toThrow("does not open: corrupt");
    await env.DB.prepare("UPDATE destinations SET signing_secret = okta_auth_value WHERE id = ?1").bind(a.id).run();
    await expect(openStoredSecret(a.id, "signing_secret")).rejects.toThrow("does not open: corrupt");
  });

  it("forwarding opens the sealed secrets: the okta auth header and the signature are the clear values", async () => {
    const d = await createDestination({ format: "okta", oktaAuth: { header: "X-Receiver-Auth", value: OKTA_AUTH_VALUE } });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    await attempt(uuid, d.id);
    expect(captured).toHaveLength(1);
    const sent = captured[0]!;
    expect(sent.headers.get("x-receiver-auth")).toBe(OKTA_AUTH_VALUE);
    const id = sent.headers.get("webhook-id")!;
    const timestamp = Number(sent.headers.get("webhook-timestamp"));
    expect(sent.headers.get("webhook-signature")).toBe(await signV1(d.secret, id, timestamp, sent.body));
  });
});

describe("no key configured: nothing stored, 503 naming SECRETS_ENCRYPTION_KEY", () => {
  const noKey = () => envWith({ SECRETS_ENCRYPTION_KEY: "" });

  it("create answers 503 not_configured and D1 is unchanged", async () => {
    await createDestination({ name: "existing" });
    const before = await destinationRowsJson();
    await expectNotConfigured(await adminCall("POST", "/destinations", { name: "x", url: "https://receiver.example.com/okta" }, noKey()));
    await expectNotConfigured(
      await adminCall("POST", "/destinations", { name: "x", url: "https://receiver.example.com/okta", format: "okta", oktaAuth: { value: "v" } }, noKey()),
    );
    expect(await destinationRowsJson()).toBe(before);
  });

  it("a malformed key is refused the same way (the variable is ignored as a whole)", async () => {
    const bad = envWith({ SECRETS_ENCRYPTION_KEY: `${TEST_SECRETS_ENCRYPTION_KEY},not-a-key` });
    await expectNotConfigured(await adminCall("POST", "/destinations", { name: "x", url: "https://receiver.example.com/okta" }, bad));
    expect(await destinationRowsJson()).toBe("[]");
  });

  it("rotate and setting an okta auth value answer 503 and change nothing; other updates still work", async () => {
    const d = await createDestination({ format: "okta", oktaAuth: { value: OKTA_AUTH_VALUE } });
    const before = await destinationRowsJson();
    await expectNotConfigured(await adminCall("POST", `/destinations/${d.id}/rotate-secret`, { gracePeriodSeconds: 0 }, noKey()));
    await expectNotConfigured(await adminCall("PATCH", `/destinations/${d.id}`, { oktaAuth: { value: NEW_OKTA_AUTH_VALUE } }, noKey()));
    expect(await destinationRowsJson()).toBe(before);
    const renamed = await adminCall("PATCH", `/destinations/${d.id}`, { name: "renamed" }, noKey());
    expect(renamed.status).toBe(200);
    expect(await openStoredSecret(d.id, "okta_auth_value")).toBe(OKTA_AUTH_VALUE);
  });
});

describe("secrets that cannot be opened at send time: retried, recorded, never sent unsigned", () => {
  it("sealed with a key later removed: retried (not acked, not dead), the attempt says why; restoring the key delivers", async () => {
    const d = await createDestination({}, envWith({ SECRETS_ENCRYPTION_KEY: OLD_KEY }));
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const errors = vi.spyOn(console, "error");

    // The Worker's configured key (the test key) is not the one that sealed it.
    const msg = message({ kind: "delivery" as const, uuid, destinationId: d.id });
    const result = await runWorkerQueue(FORWARD_QUEUE_NAME, [msg]);
    expect(result.explicitAcks).toEqual([]);
    // Backoff as for any transient failure: FORWARD_RETRY_BASE_SECONDS = 5 with ±20 % jitter.
    expect(result.retryMessages).toEqual([{ msgId: msg.id, delaySeconds: expect.any(Number) }]);
    expect(result.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(4);
    expect(result.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(6);
    expect(captured).toEqual([]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters").first("n")).toBe(0);
    expect(await deliveryRow(uuid, d.id)).toMatchObject({
      state: "failed",
      attempts: 1,
      last_status: null,
      last_error: "signing secret cannot be decrypted: unknown_key",
    });
    expect(await attemptRows(uuid, d.id)).toEqual([
      expect.objectContaining({ attempt: 1, status: null, outcome: "retry", error: "signing secret cannot be decrypted: unknown_key" }),
    ]);
    const logged = errors.mock.calls.map((call) => String(call[0])).join("\n");
    expect(logged).toContain('"level":"error"');
    expect(logged).toContain("unknown_key");
    for (const material of [d.secret, OLD_KEY, TEST_SECRETS_ENCRYPTION_KEY, "whsec_", "enc:v1:"]) expect(logged).not.toContain(material);

    // The operator puts the old key back (second): the retry delivers, signed with the original secret.
    await attempt(uuid, d.id, { env: { SECRETS_ENCRYPTION_KEY: `${TEST_SECRETS_ENCRYPTION_KEY},${OLD_KEY}` } });
    expect(captured).toHaveLength(1);
    const sent = captured[0]!;
    const id = sent.headers.get("webhook-id")!;
    expect(sent.headers.get("webhook-signature")).toBe(await signV1(d.secret, id, Number(sent.headers.get("webhook-timestamp")), sent.body));
    expect(await deliveryRow(uuid, d.id)).toMatchObject({ state: "delivered", attempts: 2 });
  });

  it("no key configured at all: retried with the reason no_key", async () => {
    const d = await createDestination({ format: "okta", oktaAuth: { value: OKTA_AUTH_VALUE } });
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result, deadLettered } = await attempt(uuid, d.id, { env: { SECRETS_ENCRYPTION_KEY: "" } });
    expect(result.retryMessages).toHaveLength(1);
    expect(deadLettered).toEqual([]);
    expect(captured).toEqual([]);
    expect(await attemptRows(uuid, d.id)).toEqual([
      expect.objectContaining({ outcome: "retry", error: "signing secret cannot be decrypted: no_key" }),
    ]);
  });

  it("an okta auth value that does not open is named as such", async () => {
    const d = await createDestination({ format: "okta", oktaAuth: { value: OKTA_AUTH_VALUE } });
    await env.DB.prepare("UPDATE destinations SET okta_auth_value = 'enc:v1:00000000:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA' WHERE id = ?1")
      .bind(d.id)
      .run();
    const uuid = await storeEvent();
    await openDeliveries(uuid);
    const { captured } = stubDestinations(() => new Response(null, { status: 204 }));
    const { result } = await attempt(uuid, d.id);
    expect(result.retryMessages).toHaveLength(1);
    expect(captured).toEqual([]);
    expect((await deliveryRow(uuid, d.id))?.last_error).toBe("okta auth value cannot be decrypted: unknown_key");
  });

  it("rotating with an overlap refuses (409) when the current secret cannot be opened; without overlap it replaces it", async () => {
    const d = await createDestination({}, envWith({ SECRETS_ENCRYPTION_KEY: OLD_KEY }));
    const before = await destinationRowsJson();
    const refused = await adminCall("POST", `/destinations/${d.id}/rotate-secret`, { gracePeriodSeconds: 60 });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("unknown_key");
    expect(await destinationRowsJson()).toBe(before);
    const res = await adminCall("POST", `/destinations/${d.id}/rotate-secret`, { gracePeriodSeconds: 0 });
    expect(res.status).toBe(200);
    expect(await openStoredSecret(d.id, "signing_secret")).toBe(((await res.json()) as { secret: string }).secret);
  });
});

describe("/healthz", () => {
  const health = () => callWorker(new Request(`${BASE}/healthz`, { headers: ADMIN_HEADERS }), { SECRETS_ENCRYPTION_KEY: "" });

  it("lists a missing key as a problem", async () => {
    const body = (await (await health()).json()) as { status: string; problems: string[] };
    expect(body.status).toBe("degraded");
    expect(body.problems).toEqual(["SECRETS_ENCRYPTION_KEY is not set: destinations cannot be created and forwarding cannot sign"]);
  });

  it("names a malformed key's variable and position, never its value", async () => {
    const bad = "s3cr3t-but-not-a-key";
    const res = await callWorker(new Request(`${BASE}/healthz`, { headers: ADMIN_HEADERS }), { SECRETS_ENCRYPTION_KEY: `${TEST_SECRETS_ENCRYPTION_KEY},${bad}` });
    const text = await res.text();
    expect(JSON.parse(text).problems).toEqual([
      "SECRETS_ENCRYPTION_KEY entry 2 of 2 is not base64 of 32 bytes: the variable is ignored; destinations cannot be created and forwarding cannot sign",
    ]);
    expect(text).not.toContain(bad);
    expect(text).not.toContain(TEST_SECRETS_ENCRYPTION_KEY);
  });
});
