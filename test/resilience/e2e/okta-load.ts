/**
 * The two ends of the end-to-end resilience tests, in Node:
 *
 * - OktaLoad plays Okta against a real gateway: several clients POST event hook deliveries for a bounded time and
 *   count, seeded, with Okta's at-least-once habits (https://developer.okta.com/docs/concepts/event-hooks/): the
 *   same envelope sent again (a retry), sent twice at once (a retry racing a slow first try), and events repeated
 *   in new envelopes. It records every answer, and which envelopes got none (the gateway went away mid-request).
 * - SigningReceiver is the destinations: an HTTP server on 127.0.0.1 that verifies every request's Standard Webhooks
 *   signature with the `standardwebhooks` package (independent of the gateway's signing code) and answers per path.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { E2E_ADMIN_TOKEN, E2E_EVENT_SECRET } from "../../e2e/gateway.ts";
import { prng } from "../../helpers/mutate.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/okta");
const TEMPLATES = ["event-hook.delivery.user-session-start.json", "captured/event-hook.delivery.user-lifecycle-create.json"].map(
  (name) => JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as { eventId: string; data: { events: Array<Record<string, unknown>> } },
);

export interface Envelope {
  body: string;
  uuids: string[];
}

export interface LoadOptions {
  clients: number;
  durationMs: number;
  maxRequests: number;
  seed: number;
  /** Per request: Okta waits 3 s; a loaded 2-core machine gets more. */
  timeoutMs?: number;
}

export class OktaLoad {
  /** HTTP status → count. */
  readonly statuses = new Map<number, number>();
  /** Answers other than 204, with their body. */
  readonly refusals: string[] = [];
  /** Envelopes that got no answer (connection refused or cut, timeout). */
  readonly unanswered: Envelope[] = [];
  /** Every uuid sent at least once. */
  readonly sent = new Set<string>();
  /** uuids of envelopes the gateway answered 204: it promised to keep them. */
  readonly accepted = new Set<string>();
  requests = 0;
  private readonly envelopes: Envelope[] = [];
  private readonly random: () => number;
  private stopped = false;

  constructor(
    private readonly baseUrl: () => string,
    private readonly options: LoadOptions,
  ) {
    this.random = prng(options.seed);
  }

  /** A new envelope of 1–20 events; a fifth of them events already sent in other envelopes. */
  private newEnvelope(): Envelope {
    const template = TEMPLATES[Math.floor(this.random() * TEMPLATES.length)]!;
    const events: Array<Record<string, unknown>> = [];
    const n = 1 + Math.floor(this.random() * 20);
    for (let i = 0; i < n; i++) {
      const earlier = this.envelopes.length > 0 && this.random() < 0.2 ? this.envelopes[Math.floor(this.random() * this.envelopes.length)] : undefined;
      if (earlier) events.push((JSON.parse(earlier.body) as { data: { events: Array<Record<string, unknown>> } }).data.events[0]!);
      else events.push({ ...structuredClone(template.data.events[0]!), uuid: crypto.randomUUID() });
    }
    const envelope = { body: JSON.stringify({ ...template, eventId: crypto.randomUUID(), data: { events } }), uuids: events.map((e) => e.uuid as string) };
    this.envelopes.push(envelope);
    return envelope;
  }

  /** POST one envelope; answers the status, or null when no answer came. */
  async post(envelope: Envelope): Promise<number | null> {
    this.requests++;
    for (const uuid of envelope.uuids) this.sent.add(uuid);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl()}/hooks/events`, {
        method: "POST",
        headers: { authorization: E2E_EVENT_SECRET, "content-type": "application/json", "user-agent": "Okta Hook Service v1.0.0" },
        body: envelope.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch {
      this.unanswered.push(envelope);
      return null;
    }
    const text = await res.text();
    this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
    if (res.status === 204) for (const uuid of envelope.uuids) this.accepted.add(uuid);
    else this.refusals.push(`${res.status} ${text.slice(0, 300)}`);
    return res.status;
  }

  /** The clients' loop: until the time, the request budget, or stop(). */
  async run(): Promise<void> {
    const end = Date.now() + this.options.durationMs;
    const client = async () => {
      while (!this.stopped && Date.now() < end && this.requests < this.options.maxRequests) {
        const r = this.random();
        if (r < 0.2 && this.envelopes.length > 0) {
          // Okta's retry of an envelope it already sent.
          await this.post(this.envelopes[Math.floor(this.random() * this.envelopes.length)]!);
        } else if (r < 0.3) {
          // A retry racing the first try.
          const envelope = this.newEnvelope();
          await Promise.all([this.post(envelope), this.post(envelope)]);
        } else {
          await this.post(this.newEnvelope());
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.clients }, client));
  }

  stop(): void {
    this.stopped = true;
  }
}

interface Received {
  path: string;
  eventUuid: string;
  webhookId: string;
  status: number;
  signatureValid: boolean;
}

/** Destinations on 127.0.0.1; `answer` gets the path, the event and how many requests for it this path had before. */
export class SigningReceiver {
  readonly requests: Received[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly seen = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  constructor(private readonly answer: (path: string, eventUuid: string, before: number) => number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const routePath = (req.url ?? "/").split("?")[0]!;
        let eventUuid = "";
        try {
          eventUuid = (JSON.parse(body) as { data?: { uuid?: string } }).data?.uuid ?? "";
        } catch {
          // recorded with no uuid: the test then fails on it
        }
        let signatureValid = false;
        const secret = this.secrets.get(routePath);
        const headers = {
          "webhook-id": String(req.headers["webhook-id"] ?? ""),
          "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
          "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
        };
        if (secret) {
          try {
            new Webhook(secret).verify(body, headers);
            signatureValid = true;
          } catch {
            signatureValid = false;
          }
        }
        const key = `${routePath} ${eventUuid}`;
        const before = this.seen.get(key) ?? 0;
        this.seen.set(key, before + 1);
        const status = this.answer(routePath, eventUuid, before);
        this.requests.push({ path: routePath, eventUuid, webhookId: headers["webhook-id"], status, signatureValid });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  url(routePath: string): string {
    return `http://127.0.0.1:${this.port}${routePath}`;
  }

  trust(routePath: string, secret: string): void {
    this.secrets.set(routePath, secret);
  }

  /** uuid → 2xx answers at `routePath`. */
  acceptedCounts(routePath: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.requests) if (r.path === routePath && r.status >= 200 && r.status < 300) counts.set(r.eventUuid, (counts.get(r.eventUuid) ?? 0) + 1);
    return counts;
  }

  /** uuid → the distinct webhook-ids it arrived with at `routePath`. */
  webhookIds(routePath: string): Map<string, Set<string>> {
    const ids = new Map<string, Set<string>>();
    for (const r of this.requests) if (r.path === routePath) ids.set(r.eventUuid, (ids.get(r.eventUuid) ?? new Set()).add(r.webhookId));
    return ids;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Call the admin API of the gateway at `baseUrl`. */
export async function admin(baseUrl: string, method: string, urlPath: string, body?: unknown): Promise<Response> {
  return fetch(`${baseUrl}/admin/api${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Poll `check` every 500 ms until it holds: bounded in time and in rounds. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < timeoutMs / 500 + 1 && Date.now() < deadline; round++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check();
}

/** uuids in `expected` that `counts` lacks. */
export function missing(expected: Iterable<string>, counts: Map<string, number>): string[] {
  return [...expected].filter((uuid) => !counts.has(uuid));
}
