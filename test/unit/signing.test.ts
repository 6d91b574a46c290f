import { describe, expect, it } from "vitest";
import { activeSecrets, deliveryMessageId, generateSigningSecret, secretKeyBytes, signatureHeader, signV1 } from "../../src/forwarding/signing";

// The test vector of the Standard Webhooks reference libraries (standard-webhooks/standard-webhooks, libraries/*
// tests; also Svix's): this secret, id, timestamp and payload sign to this value.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("Standard Webhooks signing", () => {
  it("matches the reference test vector", async () => {
    expect(await signV1(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
  });

  it("accepts a secret without the whsec_ prefix, as the reference libraries do", async () => {
    expect(await signV1(VECTOR.secret.slice("whsec_".length), VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
  });

  it("sends one space-separated signature per secret during a rotation, current first", async () => {
    const other = generateSigningSecret();
    const header = await signatureHeader([other, VECTOR.secret], VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const parts = header.split(" ");
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(await signV1(other, VECTOR.id, VECTOR.timestamp, VECTOR.payload));
    expect(parts[1]).toBe(VECTOR.signature);
  });

  it("generates whsec_ secrets of 32 random bytes", () => {
    const a = generateSigningSecret();
    const b = generateSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKeyBytes(a)).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it("signs with the previous secret only until its grace period ends", () => {
    const secrets = { current: "whsec_new", previous: "whsec_old", previousExpiresAt: 2_000 };
    expect(activeSecrets(secrets, 1_999)).toEqual(["whsec_new", "whsec_old"]);
    expect(activeSecrets(secrets, 2_000)).toEqual(["whsec_new"]);
    expect(activeSecrets({ current: "whsec_new", previous: null, previousExpiresAt: null }, 0)).toEqual(["whsec_new"]);
  });

  it("derives webhook-id from (event, destination): stable across retries, different per destination", async () => {
    const a1 = await deliveryMessageId("f1d0b993-cc19-11ed-a688-db22c99ef6c4", "dst_aaaaaaaaaaaaaaaaaaaa");
    const a2 = await deliveryMessageId("f1d0b993-cc19-11ed-a688-db22c99ef6c4", "dst_aaaaaaaaaaaaaaaaaaaa");
    const b = await deliveryMessageId("f1d0b993-cc19-11ed-a688-db22c99ef6c4", "dst_bbbbbbbbbbbbbbbbbbbb");
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b);
    expect(a1).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
