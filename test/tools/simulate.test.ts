/**
 * The Okta simulator's parts without a gateway (tools/simulate/): what it sends is what Okta sends (the gateway's
 * own schemas accept every synthesized event and inline request; Okta's envelope, headers and duplicates), and its
 * contract checks accept Okta's documented answers and refuse, with a message naming the rule, what Okta refuses.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventHookDeliverySchema, logEventSchema } from "../../src/okta/event-hook";
import { INLINE_HOOK_SCHEMAS, INLINE_HOOK_TYPES, MAX_RESPONSE_BYTES, type InlineHookType } from "../../src/okta/inline/index";
import { main } from "../../tools/simulate/cli.ts";
import { checkDeliveryAnswer, checkVerificationAnswer } from "../../tools/simulate/contract/event-hook.ts";
import type { Answer } from "../../tools/simulate/contract/findings.ts";
import { checkInlineAnswer } from "../../tools/simulate/contract/inline.ts";
import { batchedDeliveries, duplicateDeliveries, retriedDelivery, type DeliveryContext } from "../../tools/simulate/deliveries.ts";
import { eligibleEventTypes, selectEventTypes } from "../../tools/simulate/event-types.ts";
import { inlineRequests, type SimulatedInlineRequest } from "../../tools/simulate/inline-requests.ts";
import { percentile } from "../../tools/simulate/load.ts";
import { simulatedOrg } from "../../tools/simulate/log-events.ts";
import { deliveryHeaders, inlineHeaders } from "../../tools/simulate/okta-headers.ts";
import { seededRandom } from "../../tools/simulate/random.ts";
import { selectScenarios } from "../../tools/simulate/scenarios.ts";
import { resolveSettings, wranglerVars } from "../../tools/simulate/settings.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/okta");
const NOW = Date.UTC(2026, 10, 24, 9, 0, 0);

function deliveryContext(seed = 1): DeliveryContext {
  const random = seededRandom(seed);
  return { random, org: simulatedOrg(random), eventHookId: random.oktaId("who"), now: NOW };
}

function requests(type: InlineHookType, seed = 1): SimulatedInlineRequest[] {
  const random = seededRandom(seed);
  return inlineRequests({ random, org: simulatedOrg(random), now: NOW }, type);
}

const ok = (body: unknown, status = 200): Answer => {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return { status, contentType: "application/json", body: text, bytes: Buffer.byteLength(text), ms: 12 };
};
const errors = (findings: Array<{ severity: string; message: string }>) => findings.filter((f) => f.severity === "error").map((f) => f.message);

describe("event types", () => {
  it("ships Okta's 314 event-hook-eligible types, each once", () => {
    const types = eligibleEventTypes();
    expect(types).toHaveLength(314);
    expect(new Set(types.map((t) => t.eventType)).size).toBe(314);
    expect(types.every((t) => t.tags.includes("event-hook-eligible") && /^\d{4}\.\d{2}/.test(t.release))).toBe(true);
    expect(types.map((t) => t.eventType)).toEqual(expect.arrayContaining(["user.lifecycle.create", "user.session.start", "group.user_membership.add"]));
  });

  it("selects by exact name and prefix.*, and names a type Okta would not subscribe a hook to", () => {
    expect(selectEventTypes(["user.lifecycle.*"]).map((t) => t.eventType)).toEqual(
      eligibleEventTypes().filter((t) => t.eventType.startsWith("user.lifecycle.")).map((t) => t.eventType),
    );
    expect(selectEventTypes(["user.session.start", "user.session.start"])).toHaveLength(1);
    expect(() => selectEventTypes(["user.session.begin"])).toThrow('"user.session.begin" is not an event-hook-eligible Okta event type');
  });
});

describe("event hook deliveries", () => {
  it("delivers one event of every type, batched, each accepted by the gateway's schema in Okta's envelope", () => {
    const deliveries = batchedDeliveries(deliveryContext(), eligibleEventTypes(), 25);
    const events = deliveries.flatMap((d) => (JSON.parse(d.body) as { data: { events: Array<Record<string, unknown>> } }).data.events);
    expect(events.map((e) => e.eventType).sort()).toEqual(eligibleEventTypes().map((t) => t.eventType).sort());
    expect(new Set(events.map((e) => e.uuid)).size).toBe(events.length);
    expect(Math.max(...deliveries.map((d) => d.uuids.length))).toBeLessThanOrEqual(25);
    expect(deliveries.length).toBeGreaterThan(10);
    for (const d of deliveries) {
      const body = JSON.parse(d.body);
      expect(eventHookDeliverySchema.safeParse(body).success).toBe(true);
      expect(Object.keys(body)).toEqual(["eventType", "eventTypeVersion", "cloudEventsVersion", "source", "eventId", "data", "eventTime", "contentType"]);
    }
    for (const e of events) {
      expect(logEventSchema.safeParse(e).success).toBe(true);
      expect(e.actor).toMatchObject({ type: "User", id: expect.stringMatching(/^00u[A-Za-z0-9]{17}$/) });
      expect((e.target as unknown[]).length).toBeGreaterThan(0);
      expect(e.outcome).toHaveProperty("result");
      expect(new Date(e.published as string).toISOString()).toBe(e.published);
      expect(e.client).toMatchObject({ ipAddress: expect.stringMatching(/^(203\.0\.113|198\.51\.100)\./), userAgent: expect.any(Object) });
    }
  });

  it("has the same key order as a captured production delivery", () => {
    const captured = JSON.parse(readFileSync(path.join(FIXTURES, "captured/event-hook.delivery.user-lifecycle-create.json"), "utf8"));
    const [first] = batchedDeliveries(deliveryContext(), eligibleEventTypes().slice(0, 1), 1);
    expect(Object.keys(JSON.parse(first!.body))).toEqual(Object.keys(captured));
  });

  it("repeats one event in a second delivery with its own eventId, and retries a delivery byte for byte", () => {
    const [a, b] = duplicateDeliveries(deliveryContext(), eligibleEventTypes());
    expect(a!.eventId).not.toBe(b!.eventId);
    expect(a!.uuids.filter((u) => b!.uuids.includes(u))).toHaveLength(1);
    expect(new Set([...a!.uuids, ...b!.uuids]).size).toBe(3);
    const [original, retry] = retriedDelivery(deliveryContext(), eligibleEventTypes());
    expect(retry!.body).toBe(original!.body);
  });

  it("repeats exactly for a seed, and differs between seeds", () => {
    const body = (seed: number) => batchedDeliveries(deliveryContext(seed), eligibleEventTypes(), 25).map((d) => d.body);
    expect(body(42)).toEqual(body(42));
    expect(body(42)).not.toEqual(body(43));
  });

  it("sends Okta's delivery headers: its user agent with the hook id, no x-okta-request-id", () => {
    expect(deliveryHeaders({ header: "x-okta-secret", secret: "s3cret" }, "whoAbc")).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      "x-okta-secret": "s3cret",
      "user-agent": "Okta Hook Service v1.0.0 - whoAbc",
    });
  });
});

describe("inline hook requests", () => {
  it.each(INLINE_HOOK_TYPES)("%s: every variant is a request the gateway's schema accepts, with fresh ids", (type) => {
    const variants = requests(type);
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) {
      expect(INLINE_HOOK_SCHEMAS[type].request.safeParse(v.request).success).toBe(true);
      expect(v.body).not.toMatch(/yourOktaDomain/);
      expect(v.request.eventTime).toBe(new Date(NOW).toISOString());
      if (v.request.data.context?.request) expect(v.request.data.context.request.id).toBe(v.oktaRequestId);
    }
    expect(new Set(variants.map((v) => v.request.eventId)).size).toBe(variants.length);
  });

  it("covers what each type sends in practice", () => {
    const tokens = requests("token").map((r) => [Boolean(r.request.data.identity), Boolean(r.request.data.access)]);
    expect(tokens).toEqual([[true, true], [true, false], [false, true]]);
    expect(requests("registration").map((r) => r.request.requestType ?? null)).toEqual([
      "self.service.registration", "self.service.registration", "progressive.profile", null,
    ]);
    expect(requests("telephony").map((r) => r.request.requestType)).toEqual([
      "com.okta.user.telephony.pre-enrollment", "com.okta.user.telephony.mfa-verification",
      "com.okta.user.telephony.account-unlock", "com.okta.user.telephony.password-reset",
    ]);
    expect(requests("user-import").map((r) => r.request.data.action.result)).toEqual(["CREATE_USER", "LINK_USER"]);
  });

  it("sends Okta's inline headers, x-okta-request-id included", () => {
    expect(inlineHeaders({ header: "authorization", secret: "s" }, "Xa87Lk0UCZ2i524oTJp@IgAABzM")).toMatchObject({
      "user-agent": "Okta-Integrations",
      "x-okta-request-id": "Xa87Lk0UCZ2i524oTJp@IgAABzM",
      "cache-control": "no-cache",
      pragma: "no-cache",
    });
  });
});

describe("the inline hook contract", () => {
  const doc = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");
  const check = (type: InlineHookType, variant: number, answer: Answer) => checkInlineAnswer(requests(type)[variant]!, answer);

  it("accepts Okta's documented answers for the requests they answer", () => {
    const cases: Array<[InlineHookType, number, string]> = [
      ["token", 0, "token-hook.response.add-claims.json"],
      ["token", 0, "token-hook.response.modify-lifetime.json"],
      ["token", 0, "token-hook.response.error.json"],
      ["token", 1, "token-hook.response.add-array-element-append-dash.json"],
      ["registration", 0, "registration-hook.response.ssr.profile-update.json"],
      ["registration", 0, "registration-hook.response.ssr.deny-with-error.json"],
      ["registration", 2, "registration-hook.response.progressive-profile.update.json"],
      ["registration", 3, "registration-hook.response.deny.minimal.json"],
      ["password-import", 0, "password-import-hook.response.verified.json"],
      ["saml", 0, "saml-hook.response.json"],
      ["saml", 0, "saml-hook.response.uri-claims.json"],
      ["user-import", 1, "user-import-hook.response.link-user.json"],
      ["user-import", 0, "user-import-hook.response.app-user-profile-update.json"],
      ["user-import", 0, "user-import-hook.response.no-change.json"],
      ["telephony", 1, "telephony-hook.response.success.json"],
    ];
    for (const [type, variant, name] of cases) expect([name, check(type, variant, ok(doc(name)))]).toEqual([name, []]);
    expect(check("token", 0, { status: 204, contentType: null, body: "", bytes: 0, ms: 3 })).toEqual([]);
  });

  it("refuses a command the type does not have, naming the ones it does", () => {
    expect(errors(check("token", 0, ok({ commands: [{ type: "com.okta.user.profile.update", value: { a: 1 } }] })))).toContain(
      'commands[0]: "com.okta.user.profile.update" is not a token hook command (allowed: com.okta.identity.patch, com.okta.access.patch)',
    );
    // Okta's OpenAPI examples carry this typo; Okta's docs and SDK use com.okta.action.update.
    expect(errors(check("registration", 0, ok(doc("openapi/registration-hook.response.ProfileEnrollmentResponseDeny.json"))))[0]).toMatch(
      /"com\.action\.update" is not a registration hook command/,
    );
  });

  it("refuses patches Okta fails: a token not requested, a reserved claim, a claim the token lacks, a lifetime out of range", () => {
    const patch = (type: string, op: Record<string, unknown>) => ok({ commands: [{ type, value: [op] }] });
    expect(errors(check("token", 2, patch("com.okta.identity.patch", { op: "add", path: "/claims/x", value: "y" })))).toEqual([
      "commands[0]: com.okta.identity.patch patches the ID token, which was not requested; Okta rejects the patch",
    ]);
    expect(errors(check("token", 0, patch("com.okta.identity.patch", { op: "replace", path: "/claims/sub", value: "y" })))[0]).toMatch(
      /claim "sub" is reserved by Okta/,
    );
    expect(errors(check("token", 0, patch("com.okta.identity.patch", { op: "remove", path: "/claims/nope" })))[0]).toMatch(
      /"remove" of claim "nope", which the token does not have/,
    );
    expect(errors(check("token", 0, patch("com.okta.access.patch", { op: "replace", path: "/token/lifetime/expiration", value: 90_000 })))[0]).toMatch(
      /token lifetime must be an integer between 300 and 86400 seconds/,
    );
    expect(errors(check("saml", 0, patch("com.okta.assertion.patch", { op: "remove", path: "/claims/x" })))[0]).toMatch(/accept only "add" and "replace"/);
  });

  it("refuses answers that do not fit the request: registration kinds, LINK_USER without the user, telephony status", () => {
    const update = { commands: [{ type: "com.okta.user.profile.update", value: { locale: "en_US" } }] };
    expect(errors(check("registration", 2, ok(update)))[0]).toMatch(/is for self-service registration; progressive profiling takes/);
    expect(errors(check("user-import", 1, ok({ commands: [{ type: "com.okta.action.update", value: { result: "LINK_USER" } }] })))).toEqual([
      "commands: LINK_USER needs a com.okta.user.update {id} command naming the user",
    ]);
    expect(errors(check("telephony", 0, ok({ commands: [{ type: "com.okta.telephony.action", value: [{ status: "SENT" }] }] })))).toContain(
      "commands[0].value[0].status: must be one of SUCCESSFUL, PENDING, FAILED",
    );
  });

  it("checks Okta's published JSON schema: a boolean claim value is refused", () => {
    const answer = ok({ commands: [{ type: "com.okta.identity.patch", value: [{ op: "add", path: "/claims/admin", value: true }] }] });
    const found = errors(check("token", 0, answer));
    expect(found).toContain('Okta\'s published response schema: /commands/0/value/0/value: Instance type "boolean" is invalid. Expected "string".');
    // Okta's prose documents `"value": null` on remove; its schema's oneOf has no null, and the prose wins.
    expect(check("token", 0, ok({ commands: [{ type: "com.okta.identity.patch", value: [{ op: "remove", path: "/claims/email", value: null }] }] }))).toEqual([]);
  });

  it("says what Okta does when the answer is an HTTP error, late, too large, not JSON, or empty where it may not be", () => {
    expect(errors(check("token", 0, ok({ error: "boom" }, 500)))).toEqual([
      "HTTP 500: Okta counts anything but 200 or 204 as a failed call, so the token is issued unchanged",
    ]);
    expect(errors(check("registration", 0, { ...ok({}), ms: 3_400 }))).toEqual([
      "answered in 3400 ms, after Okta's 3 s timeout: the registration is denied",
    ]);
    expect(errors(check("saml", 0, { status: 0, contentType: null, body: "", bytes: 0, ms: 3_000, failure: { kind: "timeout", message: "no answer in 3000 ms" } }))).toEqual([
      "no answer within 3 s: Okta gives up (the assertion is sent unchanged)",
    ]);
    expect(errors(check("user-import", 0, { ...ok({}), bytes: MAX_RESPONSE_BYTES + 1 }))).toEqual([
      "the answer is more than 256 KB; Okta takes answers under 256 KB only, so the import goes on and the user is created",
    ]);
    expect(errors(check("password-import", 0, ok("<html>")))).toEqual(["the body is not JSON: the user cannot sign in"]);
    expect(errors(check("telephony", 0, { status: 204, contentType: null, body: "", bytes: 0, ms: 2 }))).toEqual([
      "HTTP 204: a telephony hook must answer com.okta.telephony.action (200); Okta sends the OTP through its own providers",
    ]);
  });

  it("never quotes a value from the answer in what it reports", () => {
    const answer = ok({ commands: [{ type: "com.okta.telephony.action", value: [{ status: "123456-otp-code" }] }], debugContext: { otp: "123456" } });
    expect(JSON.stringify(check("telephony", 0, answer))).not.toContain("123456");
  });
});

describe("the event hook contract", () => {
  it("wants the challenge back as {verification}", () => {
    expect(checkVerificationAnswer("abc", ok({ verification: "abc" }))).toEqual([]);
    expect(errors(checkVerificationAnswer("abc", ok({ verification: "abd" })))).toEqual([
      '"verification" is not the value of the x-okta-verification-challenge header: the hook stays unverified and receives no events',
    ]);
    expect(errors(checkVerificationAnswer("abc", ok({}, 401)))[0]).toMatch(/^HTTP 401, Okta needs 200/);
  });

  it("wants 200 or 204 for a delivery, and says a 4xx loses the events", () => {
    expect(checkDeliveryAnswer(3, { status: 204, contentType: null, body: "", bytes: 0, ms: 9 })).toEqual([]);
    expect(errors(checkDeliveryAnswer(3, ok({}, 400)))).toEqual(["HTTP 400: Okta never retries a 4xx, so these 3 events are lost"]);
    expect(errors(checkDeliveryAnswer(1, ok({}, 503)))).toEqual(["HTTP 503: Okta retries once, then drops these 1 event"]);
    expect(checkDeliveryAnswer(1, ok({ ok: true }))).toEqual([{ severity: "warning", message: "the body is not empty (11 bytes); Okta expects none" }]);
  });
});

describe("settings and scenarios", () => {
  it("takes secrets from flags, then the environment, then .dev.vars, and the header names from wrangler.toml", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sim-settings-"));
    const devVars = path.join(dir, ".dev.vars");
    writeFileSync(devVars, 'EVENT_HOOK_SECRETS=from-dev-vars-new,from-dev-vars-old\nINLINE_HOOK_SECRETS="inline-dev"\nINLINE_HOOK_AUTH_HEADER=X-Inline-Key\n');
    const fromFile = resolveSettings({ devVars, env: {} });
    expect(fromFile.eventAuth).toEqual({ header: "authorization", secret: "from-dev-vars-new" });
    expect(fromFile.inlineAuth).toEqual({ header: "x-inline-key", secret: "inline-dev" });
    expect(fromFile.sources).toMatchObject({ EVENT_HOOK_SECRETS: ".dev.vars", EVENT_HOOK_AUTH_HEADER: "wrangler.toml" });
    const fromEnv = resolveSettings({ devVars, env: { EVENT_HOOK_SECRETS: "from-env" }, eventSecret: undefined });
    expect(fromEnv.eventAuth?.secret).toBe("from-env");
    expect(resolveSettings({ devVars, env: { EVENT_HOOK_SECRETS: "from-env" }, eventSecret: "from-flag" }).eventAuth?.secret).toBe("from-flag");
    expect(resolveSettings({ devVars: path.join(dir, "missing"), env: {} }).eventAuth).toBeNull();
  });

  it("reads [vars] of wrangler.toml and nothing else", () => {
    expect(wranglerVars('name = "x"\n[vars]\nA = "1"\nB = "two"\n[[d1_databases]]\nC = "3"\n')).toEqual({ A: "1", B: "two" });
  });

  it("selects scenarios and groups by name, and names the ones it knows when one is unknown", () => {
    expect(selectScenarios([]).map((s) => s.name)).toHaveLength(10);
    expect(selectScenarios(["inline", "verify"]).map((s) => s.name)).toEqual(["verify", ...INLINE_HOOK_TYPES]);
    expect(() => selectScenarios(["tokens"])).toThrow(/unknown scenario "tokens" \(known: all, event-hook, inline, verify/);
  });

  it("computes nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 99), percentile([7], 99), percentile([], 50)]).toEqual([50, 99, 7, 0]);
  });

  it("stops with exit 2 and a message on what it cannot run, before sending anything", async () => {
    const run = async (...args: string[]) => {
      const err: string[] = [];
      const code = await main([...args, "--url", "http://127.0.0.1:9", "--event-secret", "s", "--inline-secret", "s"], () => {}, (l) => err.push(l));
      return { code, err: err.join("\n") };
    };
    expect(await run("tokens")).toEqual({ code: 2, err: expect.stringContaining('simulate: unknown scenario "tokens"') });
    expect(await run("--types", "user.nope")).toEqual({ code: 2, err: expect.stringContaining('"user.nope" is not an event-hook-eligible Okta event type') });
    expect(await run("--max-batch", "0")).toEqual({ code: 2, err: expect.stringContaining("--max-batch <n>' argument '0' is invalid. must be a whole number from 1 to 500") });
    expect(await run("--format", "xml")).toMatchObject({ code: 2 });
  });
});
