/**
 * /admin/api/destinations (docs/forwarding.md): create, list, get, update (PATCH; pause and resume are state
 * changes), delete, and rotate the signing secret with an overlap. The secret is generated here and returned once,
 * by create and rotate; no other response, log line or error carries it. Secrets are sealed with
 * SECRETS_ENCRYPTION_KEY before they are written (src/storage/destination-secrets.ts); without a usable key, a
 * request that would store one answers 503 not_configured and writes nothing.
 *
 * Resuming a destination (state → active) sends its waiting deliveries (src/queue/resume.ts): the first page now,
 * the rest page by page through the queue; if that fails, every sweep resumes waiting deliveries of active
 * destinations, so none stays behind.
 */
import { Hono } from "hono";
import type { Config } from "../../config";
import { loadKeyring, type Keyring } from "../../crypto/secret-box";
import { ApiError } from "../../errors";
import { describeError, log } from "../../log";
import { resumeStep } from "../../queue/resume";
import { generateSigningSecret } from "../../forwarding/signing";
import { checkDestinationUrl } from "../../forwarding/url-guard";
import { openDestinationSecret, sealDestinationSecret } from "../../storage/destination-secrets";
import {
  deleteDestination,
  getDestination,
  insertDestination,
  listDestinations,
  newDestinationId,
  rotateSigningSecret,
  saveDestination,
  type Destination,
} from "../../storage/destinations";
import type { AppEnv } from "../types";
import { readValidatedJson } from "../validated-json";
import {
  createDestinationSchema,
  DESTINATION_ID,
  destinationView,
  rotateSecretSchema,
  updateDestinationSchema,
} from "./destination-input";

/** Most destinations one list answers with (a gateway has a handful; the bound keeps the response small). */
export const LIST_LIMIT = 500;
/** Waiting deliveries enqueued by the resume request itself. */

export const destinationRoutes = new Hono<AppEnv>();

function checkUrl(url: string, allowInsecure: boolean): void {
  const check = checkDestinationUrl(url, { allowInsecure });
  if (!check.ok) throw new ApiError("invalid_body", `url: ${check.message}`);
}

/** The keyring that seals destination secrets, or 503 when SECRETS_ENCRYPTION_KEY is unset or invalid. */
async function requireKeyring(config: Config): Promise<Keyring> {
  const keyring = loadKeyring(config.secretKeys);
  if (!keyring) {
    throw new ApiError(
      "not_configured",
      "SECRETS_ENCRYPTION_KEY is not set (or not valid): destination secrets cannot be stored. See /healthz.",
    );
  }
  return keyring;
}

async function findDestination(db: D1Database, id: string): Promise<Destination> {
  const destination = DESTINATION_ID.test(id) ? await getDestination(db, id) : null;
  if (!destination) throw new ApiError("not_found", "No destination with this id.");
  return destination;
}

destinationRoutes.post("/", async (c) => {
  const input = await readValidatedJson(c.req.raw, createDestinationSchema);
  checkUrl(input.url, c.var.config.allowInsecureDestinations);
  if (input.format === "okta" && !input.oktaAuth) {
    throw new ApiError("invalid_body", "oktaAuth: is required for format okta (the header your Okta hook receiver checks)");
  }
  if (input.format === "standard" && input.oktaAuth) {
    throw new ApiError("invalid_body", "oktaAuth: only applies to format okta");
  }
  const keyring = await requireKeyring(c.var.config);
  const now = Date.now();
  const id = newDestinationId();
  const secret = generateSigningSecret();
  const destination: Destination = {
    id,
    name: input.name,
    url: input.url,
    eventTypes: input.eventTypes,
    conditions: input.conditions,
    format: input.format,
    sealedSigningSecret: await sealDestinationSecret(keyring, "signing_secret", id, secret),
    sealedPreviousSigningSecret: null,
    previousSecretExpiresAt: null,
    oktaAuthHeader: input.oktaAuth?.header ?? null,
    sealedOktaAuthValue: input.oktaAuth ? await sealDestinationSecret(keyring, "okta_auth_value", id, input.oktaAuth.value) : null,
    timeoutMs: input.timeoutMs,
    state: input.state,
    consecutiveFailures: 0,
    disabledReason: null,
    createdAt: now,
    updatedAt: now,
  };
  await insertDestination(c.env.DB, destination);
  c.var.logFields.destinationId = destination.id;
  return c.json({ ...destinationView(destination, now), secret }, 201, {
    location: `/admin/api/destinations/${destination.id}`,
    "cache-control": "no-store",
  });
});

destinationRoutes.get("/", async (c) => {
  const now = Date.now();
  const destinations = await listDestinations(c.env.DB, LIST_LIMIT);
  return c.json({ destinations: destinations.map((d) => destinationView(d, now)) });
});

destinationRoutes.get("/:id", async (c) => {
  const destination = await findDestination(c.env.DB, c.req.param("id"));
  return c.json(destinationView(destination, Date.now()));
});

destinationRoutes.patch("/:id", async (c) => {
  const existing = await findDestination(c.env.DB, c.req.param("id"));
  const input = await readValidatedJson(c.req.raw, updateDestinationSchema);
  if (input.url !== undefined) checkUrl(input.url, c.var.config.allowInsecureDestinations);
  const now = Date.now();
  const format = input.format ?? existing.format;
  if (format === "standard" && input.oktaAuth) throw new ApiError("invalid_body", "oktaAuth: only applies to format okta");
  const oktaAuthHeader = format === "okta" ? (input.oktaAuth?.header ?? existing.oktaAuthHeader) : null;
  // A new okta auth value is sealed (503 without a key); an unchanged one stays as stored.
  const newOktaAuthValue =
    format === "okta" && input.oktaAuth
      ? await sealDestinationSecret(await requireKeyring(c.var.config), "okta_auth_value", existing.id, input.oktaAuth.value)
      : null;
  const sealedOktaAuthValue = format === "okta" ? (newOktaAuthValue ?? existing.sealedOktaAuthValue) : null;
  if (format === "okta" && (oktaAuthHeader === null || sealedOktaAuthValue === null)) {
    throw new ApiError("invalid_body", "oktaAuth: is required for format okta (the header your Okta hook receiver checks)");
  }
  const state = input.state ?? existing.state;
  const resuming = state === "active" && existing.state !== "active";
  const updated: Destination = {
    ...existing,
    name: input.name ?? existing.name,
    url: input.url ?? existing.url,
    eventTypes: input.eventTypes ?? existing.eventTypes,
    conditions: input.conditions ?? existing.conditions,
    format,
    oktaAuthHeader,
    sealedOktaAuthValue,
    timeoutMs: input.timeoutMs ?? existing.timeoutMs,
    state,
    consecutiveFailures: resuming ? 0 : existing.consecutiveFailures,
    disabledReason: state === "disabled" ? (existing.state === "disabled" ? existing.disabledReason : "disabled by an operator") : null,
    updatedAt: now,
  };
  if (!(await saveDestination(c.env.DB, updated))) throw new ApiError("not_found", "No destination with this id.");
  c.var.logFields.destinationId = updated.id;
  if (state !== existing.state) c.var.logFields.stateChange = `${existing.state}->${state}`;
  if (resuming) {
    try {
      const step = await resumeStep(c.env, updated.id, now);
      c.var.logFields.resumed = step.resumed;
      c.var.logFields.resumeContinues = step.more;
    } catch (error) {
      // The destination is active: the next sweep resumes its waiting deliveries.
      log("warn", "resume failed; the sweeper will resume", { requestId: c.var.requestId, destinationId: updated.id, error: describeError(error) });
    }
  }
  return c.json(destinationView(updated, now));
});

destinationRoutes.delete("/:id", async (c) => {
  const id = c.req.param("id");
  if (!DESTINATION_ID.test(id) || !(await deleteDestination(c.env.DB, id))) {
    throw new ApiError("not_found", "No destination with this id.");
  }
  c.var.logFields.destinationId = id;
  return c.body(null, 204);
});

destinationRoutes.post("/:id/rotate-secret", async (c) => {
  const existing = await findDestination(c.env.DB, c.req.param("id"));
  const hasBody = c.req.header("content-type") !== undefined || (c.req.header("content-length") ?? "0") !== "0";
  const input = hasBody ? await readValidatedJson(c.req.raw, rotateSecretSchema) : rotateSecretSchema.parse({});
  const keyring = await requireKeyring(c.var.config);
  const now = Date.now();
  const secret = generateSigningSecret();
  const previousExpiresAt = input.gracePeriodSeconds > 0 ? now + input.gracePeriodSeconds * 1000 : null;
  // The secret being replaced keeps signing during the grace period: re-sealed (with the newest key) for its new
  // column. If no configured key opens it, it cannot sign anyway: only a rotation without overlap can replace it.
  let sealedPrevious: string | null = null;
  if (previousExpiresAt !== null) {
    const current = await openDestinationSecret(keyring, "signing_secret", existing.id, existing.sealedSigningSecret);
    if (!current.ok) {
      throw new ApiError(
        "conflict",
        `The current signing secret cannot be decrypted (${current.reason}) with SECRETS_ENCRYPTION_KEY, so it cannot keep signing: rotate with {"gracePeriodSeconds":0}.`,
      );
    }
    sealedPrevious = await sealDestinationSecret(keyring, "previous_signing_secret", existing.id, current.value);
  }
  const change = {
    expectedCurrent: existing.sealedSigningSecret,
    sealedSecret: await sealDestinationSecret(keyring, "signing_secret", existing.id, secret),
    sealedPrevious,
    previousExpiresAt,
  };
  if (!(await rotateSigningSecret(c.env.DB, existing.id, change, now))) {
    if (await getDestination(c.env.DB, existing.id)) {
      throw new ApiError("conflict", "The secret was rotated by another request at the same time; try again.");
    }
    throw new ApiError("not_found", "No destination with this id.");
  }
  c.var.logFields.destinationId = existing.id;
  c.var.logFields.gracePeriodSeconds = input.gracePeriodSeconds;
  return c.json(
    {
      id: existing.id,
      secret,
      previousSecretExpiresAt: previousExpiresAt === null ? null : new Date(previousExpiresAt).toISOString(),
    },
    200,
    { "cache-control": "no-store" },
  );
});
