// Synthetic Okta System Log events of realistic size and entropy for `npm run bench`: 2-4 KB of JSON each, shaped
// like the LogEvent objects Okta delivers (https://developer.okta.com/docs/reference/api/system-log/#logevent-object)
// and like the captured deliveries in test/fixtures/okta: an org's users, apps and devices repeat across events, while
// ids, session and transaction ids, hashes, request ids and times are fresh per event — the parts that do not
// compress. Seeded, so every run stores the same bytes.

/** A small, seeded PRNG (mulberry32): the same sequence on every run. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX = "0123456789abcdef";

const CITIES = [
  ["Toronto", "Ontario", "Canada", "M4M", 43.6567, -79.34],
  ["San Francisco", "California", "United States", "94107", 37.7697, -122.3933],
  ["Austin", "Texas", "United States", "78701", 30.2711, -97.7437],
  ["London", "England", "United Kingdom", "EC2A", 51.5237, -0.0803],
  ["Berlin", "Land Berlin", "Germany", "10115", 52.532, 13.3849],
  ["Sydney", "New South Wales", "Australia", "2000", -33.8688, 151.2093],
  ["Bengaluru", "Karnataka", "India", "560001", 12.9716, 77.5946],
];
// User agents as Okta reports them, with browser and OS versions drawn per user (real orgs run many versions).
const AGENTS = [
  (v) => [`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v(118, 133)}.0.0.0 Safari/537.36`, "Mac OS X", "CHROME", "Computer"],
  (v) => [`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v(118, 133)}.0.0.0 Safari/537.36 Edg/${v(118, 133)}.0.${v(1000, 3000)}.${v(10, 99)}`, "Windows 10", "EDGE_CHROMIUM", "Computer"],
  (v) => [`Mozilla/5.0 (iPhone; CPU iPhone OS ${v(16, 18)}_${v(0, 6)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v(16, 18)}.${v(0, 6)} Mobile/15E148 Safari/604.1`, "iOS", "SAFARI", "Mobile"],
  (v) => [`Mozilla/5.0 (X11; Linux x86_64; rv:${v(115, 133)}.0) Gecko/20100101 Firefox/${v(115, 133)}.0`, "Linux", "FIREFOX", "Computer"],
  (v) => [`okta-sdk-java/${v(8, 20)}.${v(0, 9)}.${v(0, 9)} java/17.0.${v(1, 12)} Linux/5.15.0-${v(1000, 1100)}-aws`, "Linux", "UNKNOWN", "Unknown"],
];
const KINDS = [
  { eventType: "user.session.start", legacy: "core.user_auth.login_success", message: "User login to Okta", uri: "/idp/idx/identify", weight: 30 },
  { eventType: "user.authentication.sso", legacy: "app.auth.sso", message: "User single sign on to app", uri: "/app/salesforce/exk1/sso/saml", weight: 25, app: true },
  { eventType: "policy.evaluate_sign_on", legacy: null, message: "Evaluation of sign-on policy", uri: "/idp/idx/introspect", weight: 20, app: true },
  { eventType: "user.authentication.auth_via_mfa", legacy: "core.user.factor.attempt_success", message: "Authentication of user via MFA", uri: "/idp/idx/challenge/answer", weight: 10 },
  { eventType: "app.oauth2.as.token.grant.access_token", legacy: "app.oauth2.as.token.grant.access_token_success", message: "OAuth2 access token is granted", uri: "/oauth2/default/v1/token", weight: 8, app: true },
  { eventType: "user.account.update_profile", legacy: "core.user.config.profile_update_success", message: "Update user profile for Okta", uri: "/api/v1/users/{id}", weight: 4 },
  { eventType: "group.user_membership.add", legacy: "core.user_group_member.user_add", message: "Add user to group membership", uri: "/api/v1/groups/{id}/users/{id}", weight: 2 },
  { eventType: "user.lifecycle.create", legacy: "core.user.config.user_creation.success", message: "Create Okta user", uri: "/api/v1/users", weight: 1 },
];
const APPS = ["Salesforce.com", "Slack", "Workday", "GitHub Enterprise Cloud", "Zoom", "Atlassian Cloud", "Google Workspace", "AWS IAM Identity Center", "ServiceNow", "Box"];
const GIVEN = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Frances", "Edsger", "Donald", "Hedy", "Tim", "Katherine"];
const FAMILY = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Perlman", "Allen", "Dijkstra", "Knuth", "Lamarr", "Berners-Lee", "Johnson"];

export function syntheticEvents({ seed = 1, users = 5_000, startMs = Date.UTC(2026, 10, 30, 12) } = {}) {
  const rand = seeded(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const chars = (alphabet, n) => {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  const oktaId = (prefix) => prefix + chars(BASE62, 17);
  const uuid = () => `${chars(HEX, 8)}-${chars(HEX, 4)}-11ef-${chars(HEX, 4)}-${chars(HEX, 12)}`;
  const ip = () => `${Math.floor(rand() * 223) + 1}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
  const totalWeight = KINDS.reduce((n, k) => n + k.weight, 0);
  const kind = () => {
    let r = rand() * totalWeight;
    for (const k of KINDS) if ((r -= k.weight) < 0) return k;
    return KINDS[0];
  };
  // The org: users with their home city, device and agent; apps. Stable across the run, as in a real org.
  const people = Array.from({ length: Math.min(users, 2_000) }, () => {
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const version = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
    return { id: oktaId("00u"), name: `${given} ${family}`, login: `${given}.${family}${Math.floor(rand() * 100)}@example.com`.toLowerCase(), city: pick(CITIES), agent: pick(AGENTS)(version), ip: ip() };
  });
  const apps = APPS.map((name) => ({ id: oktaId("0oa"), name }));
  const groups = Array.from({ length: 30 }, (_, i) => ({ id: oktaId("00g"), name: `team-${i}` }));
  let clock = startMs;

  return function next() {
    const k = kind();
    const who = pick(people);
    clock += Math.floor(rand() * 400);
    const failed = rand() < 0.06;
    const requestId = chars(BASE62, 22) + "AAAB" + chars(BASE62, 1);
    const [city, state, country, postalCode, lat, lon] = who.city;
    const geo = { city, state, country, postalCode, geolocation: { lat, lon } };
    const [rawUserAgent, os, browser, device] = who.agent;
    const target = [];
    if (k.app) {
      const app = pick(apps);
      target.push({ id: app.id, type: "AppInstance", alternateId: app.name, displayName: app.name, detailEntry: { signOnModeType: pick(["SAML_2_0", "OPENID_CONNECT"]) } });
    }
    if (k.eventType.startsWith("group.")) {
      const group = pick(groups);
      target.push({ id: group.id, type: "UserGroup", alternateId: "unknown", displayName: group.name, detailEntry: null });
    }
    if (!k.app || rand() < 0.5) target.push({ id: who.id, type: "User", alternateId: who.login, displayName: who.name, detailEntry: null });
    if (k.eventType === "policy.evaluate_sign_on") {
      target.push({ id: oktaId("rul"), type: "Rule", alternateId: "unknown", displayName: "Catch-all Rule", detailEntry: null });
      target.push({ id: oktaId("rst"), type: "PolicyEntity", alternateId: "unknown", displayName: "Default Policy", detailEntry: { policyType: "Okta:SignOn" } });
    }
    const behaviors = `{New Geo-Location=${pick(["NEGATIVE", "POSITIVE"])}, New Device=${pick(["NEGATIVE", "POSITIVE"])}, New IP=${pick(["NEGATIVE", "POSITIVE"])}, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}`;
    return {
      actor: { id: who.id, type: "User", alternateId: who.login, displayName: who.name, detailEntry: null },
      client: {
        userAgent: { rawUserAgent, os, browser },
        zone: "null",
        device,
        id: rand() < 0.3 ? oktaId("guo") : null,
        ipAddress: who.ip,
        geographicalContext: geo,
      },
      device: rand() < 0.3 ? { id: oktaId("guo"), name: `${who.name.split(" ")[0]}'s ${device === "Mobile" ? "iPhone" : "laptop"}`, os_platform: os.toUpperCase().replace(/ /g, "_"), os_version: "15.1.0", managed: rand() < 0.5, registered: true, device_integrator: null, disk_encryption_type: "ALL_INTERNAL_VOLUMES", screen_lock_type: "BIOMETRIC", jailbreak: null, secure_hardware_present: true } : null,
      authenticationContext: {
        authenticationProvider: failed ? null : "FACTOR_PROVIDER",
        credentialProvider: "OKTA_CREDENTIAL_PROVIDER",
        credentialType: pick(["PASSWORD", "OTP", "ASSERTION"]),
        issuer: null,
        interface: null,
        authenticationStep: 0,
        rootSessionId: chars(BASE62, 25),
        externalSessionId: "idx" + chars(BASE62, 22),
      },
      displayMessage: k.message,
      eventType: k.eventType,
      outcome: failed ? { result: pick(["FAILURE", "DENY"]), reason: pick(["INVALID_CREDENTIALS", "VERIFICATION_ERROR", "Sign-on policy evaluation resulted in DENY"]) } : { result: k.eventType === "policy.evaluate_sign_on" ? "ALLOW" : "SUCCESS", reason: null },
      published: new Date(clock).toISOString(),
      securityContext: { asNumber: Math.floor(rand() * 60_000), asOrg: pick(["comcast", "rogers", "deutsche telekom ag", "amazon.com inc.", "bt"]), isp: pick(["comcast", "rogers", "telekom", "amazon", "bt"]), domain: pick(["comcast.net", "rogers.com", "t-online.de", "amazonaws.com", "bt.com"]), isProxy: false },
      severity: failed ? "WARN" : "INFO",
      debugContext: {
        debugData: {
          requestId,
          dtHash: chars(HEX, 64),
          requestUri: k.uri,
          url: `${k.uri}?`,
          authnRequestId: chars(BASE62, 27),
          threatSuspected: "false",
          deviceFingerprint: chars(HEX, 32),
          risk: `{level=${pick(["LOW", "LOW", "LOW", "MEDIUM", "HIGH"])}}`,
          behaviors,
          logOnlySecurityData: JSON.stringify({ risk: { level: "LOW" }, behaviors: { "New Geo-Location": "NEGATIVE", "New Device": "NEGATIVE", "New IP": "NEGATIVE" } }),
          ...(k.app && { clientId: chars(BASE62, 20), grantType: "authorization_code", initiationType: "SP_INITIATED" }),
        },
      },
      legacyEventType: k.legacy,
      transaction: { type: "WEB", id: requestId, detail: {} },
      uuid: uuid(),
      version: "0",
      request: { ipChain: [{ ip: who.ip, geographicalContext: geo, version: "V4", source: null }] },
      target,
    };
  };
}

/** An Okta event hook delivery envelope around `events`, as Okta sends it. */
export function deliveryEnvelope(events, org = "acme.okta.com") {
  return JSON.stringify({
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: `https://${org}/api/v1/eventHooks/who8benchHook9Gx1d7`,
    eventId: crypto.randomUUID(),
    data: { events },
    eventTime: new Date().toISOString(),
    contentType: "application/json",
  });
}
