// The requests the benchmarks load the gateway with, as Okta sends them, and the inline hook rules the inline
// scenarios decide from: one list for `npm run bench` (scripts/bench.mjs), bench/inline-ab.mjs and bench/profile.mjs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET, E2E_INLINE_SECRET } from "../test/e2e/gateway.ts";
import { deliveryEnvelope, syntheticEvents } from "./synthetic-events.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const fixture = (name) => readFileSync(path.join(ROOT, "test/fixtures/okta", name), "utf8");
const eventHeaders = { "content-type": "application/json", authorization: E2E_EVENT_SECRET };
const inlineHeaders = { "content-type": "application/json", authorization: E2E_INLINE_SECRET };

/**
 * Every scenario, in the order `npm run bench` runs them (inline hooks before the event load, whose after-effects
 * would otherwise be measured too). Event bodies are made per request from `seed`'s synthesized events, so only
 * "redelivery" repeats a delivery.
 */
export function scenarios({ seed = 42 } = {}) {
  const nextEvent = syntheticEvents({ seed });
  const duplicate = deliveryEnvelope([nextEvent()]);
  const tokenRequest = fixture("token-hook.request.json");
  const registrationRequest = fixture("registration-hook.request.ssr.json");
  const events = (n) => () => deliveryEnvelope(Array.from({ length: n }, nextEvent));
  return [
    { id: "verification", name: "GET verification", path: "/hooks/events", method: "GET", route: "/hooks/events", headers: { ...eventHeaders, "x-okta-verification-challenge": "bench" } },
    { id: "inline-token", name: "inline token, 2 cached claim rules", path: "/hooks/inline/token", method: "POST", route: "/hooks/inline/token", headers: inlineHeaders, body: () => tokenRequest },
    { id: "inline-registration", name: "inline registration, cached domain rule", path: "/hooks/inline/registration", method: "POST", route: "/hooks/inline/registration", headers: inlineHeaders, body: () => registrationRequest },
    { id: "redelivery", name: "POST redelivery (all duplicates)", path: "/hooks/events", method: "POST", route: "/hooks/events", headers: eventHeaders, body: () => duplicate },
    { id: "ingest-1", name: "POST 1 new event", path: "/hooks/events", method: "POST", route: "/hooks/events", headers: eventHeaders, body: events(1), events: 1 },
    { id: "ingest-20", name: "POST 20 new events", path: "/hooks/events", method: "POST", route: "/hooks/events", headers: eventHeaders, body: events(20), events: 20 },
    { id: "ingest-100", name: "POST 100 new events", path: "/hooks/events", method: "POST", route: "/hooks/events", headers: eventHeaders, body: events(100), events: 100 },
  ];
}

/** POST `body` to the gateway's admin API; its JSON answer. */
export async function adminPost(gw, route, body) {
  const res = await fetch(`${gw.baseUrl}/admin/api${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The rules the inline scenarios decide from: two token claims and a registration email domain. */
export async function seedInlineRules(gw) {
  await adminPost(gw, "/rules", { kind: "token.claim", definition: { token: "access", claim: "department", value: { from: "static", value: "engineering" } } });
  await adminPost(gw, "/rules", { kind: "token.claim", definition: { token: "identity", claim: "employee_type", value: { from: "profile", attribute: "locale" } } });
  await adminPost(gw, "/rules", { kind: "registration.email-domain", definition: { allow: ["example.com"], errorSummary: "Use your work email.", fieldMessage: "Only example.com addresses can register." } });
}
