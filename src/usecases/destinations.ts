/**
 * The destination use cases: create, update (pause and resume are state changes), delete, and rotate the signing
 * secret with an overlap. The secret is generated here and returned once, by create and rotate; no other answer,
 * log line or error carries it. Secrets are sealed with SECRETS_ENCRYPTION_KEY before they are written
 * (src/storage/destination-secrets.ts); without a usable key, a request that would store one is refused with
 * not_configured and writes nothing.
 *
 * Resuming a destination (state → active) sends its waiting deliveries (src/queue/resume.ts): the first page now,
 * the rest page by page through the queue; if that fails, every sweep resumes waiting deliveries of active
 * destinations, so none stays behind.
 */
import type { Config } from "../config";
import { loadKeyring, type Keyring } from "../crypto/secret-box";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { generateSigningSecret } from "../forwarding/signing";
import { checkDestinationUrl } from "../forwarding/url-guard";
import { describeError, log } from "../log";
import { resumeStep } from "../queue/resume";
import { openDestinationSecret, sealDestinationSecret } from "../storage/destination-secrets";
import { invalidateRoutingCache } from "../storage/routing-cache";
import {
  deleteDestination,
  getDestination,
  insertDestination,
  newDestinationId,
  rotateSigningSecret,
  saveDestination,
  type Destination,
} from "../storage/destinations";
import { DESTINATION_ID, type CreateDestinationInput, type UpdateDestinationInput } from "./destination-input";

export interface DestinationDeps {
  env: Env;
  config: Config;
  /** Epoch ms. */
  now: number;
  /** For log lines. */
  requestId?: string;
}

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

/** Find a destination by id, or not_found. */
export async function findDestination(db: D1Database, id: string): Promise<Destination> {
  const destination = DESTINATION_ID.test(id) ? await getDestination(db, id) : null;
  if (!destination) throw new ApiError("not_found", "No destination with this id.");
  return destination;
}

/** Create a destination; answers it and its signing secret (shown this once). */
export async function createDestination(deps: DestinationDeps, input: CreateDestinationInput): Promise<{ destination: Destination; secret: string }> {
  checkUrl(input.url, deps.config.allowInsecureDestinations);
  if (input.format === "okta" && !input.oktaAuth) {
    throw new ApiError("invalid_body", "oktaAuth: is required for format okta (the header your Okta hook receiver checks)");
  }
  if (input.format === "standard" && input.oktaAuth) {
    throw new ApiError("invalid_body", "oktaAuth: only applies to format okta");
  }
  const keyring = await requireKeyring(deps.config);
  const { now } = deps;
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
  await insertDestination(deps.env.DB, destination);
  invalidateRoutingCache(deps.env.DB);
  return { destination, secret };
}

export interface UpdateResult {
  destination: Destination;
  /** "paused->active" and the like, when the state changed. */
  stateChange?: string;
  /** When the update resumed the destination: how many waiting deliveries the first page sent, and whether more wait. */
  resumed?: { resumed: number; more: boolean };
}

/**
 * Change a destination. Resuming it (state → active) resets its failure count and sends its waiting deliveries; a
 * new URL or Okta auth resets the failure count too.
 */
export async function updateDestination(deps: DestinationDeps, id: string, input: UpdateDestinationInput): Promise<UpdateResult> {
  const { env, config, now } = deps;
  const existing = await findDestination(env.DB, id);
  if (input.url !== undefined) checkUrl(input.url, config.allowInsecureDestinations);
  const format = input.format ?? existing.format;
  if (format === "standard" && input.oktaAuth) throw new ApiError("invalid_body", "oktaAuth: only applies to format okta");
  const oktaAuthHeader = format === "okta" ? (input.oktaAuth?.header ?? existing.oktaAuthHeader) : null;
  // A new okta auth value is sealed (not_configured without a key); an unchanged one stays as stored.
  const newOktaAuthValue =
    format === "okta" && input.oktaAuth
      ? await sealDestinationSecret(await requireKeyring(config), "okta_auth_value", existing.id, input.oktaAuth.value)
      : null;
  const sealedOktaAuthValue = format === "okta" ? (newOktaAuthValue ?? existing.sealedOktaAuthValue) : null;
  if (format === "okta" && (oktaAuthHeader === null || sealedOktaAuthValue === null)) {
    throw new ApiError("invalid_body", "oktaAuth: is required for format okta (the header your Okta hook receiver checks)");
  }
  const state = input.state ?? existing.state;
  const resuming = state === "active" && existing.state !== "active";
  // A new URL or Okta auth value starts a new run of failures: the old run measured a receiver no longer in use.
  const newReceiver = (input.url !== undefined && input.url !== existing.url) || newOktaAuthValue !== null || oktaAuthHeader !== existing.oktaAuthHeader;
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
    consecutiveFailures: resuming || newReceiver ? 0 : existing.consecutiveFailures,
    disabledReason: state === "disabled" ? (existing.state === "disabled" ? existing.disabledReason : "disabled by an operator") : null,
    updatedAt: now,
  };
  // Without a state in the change, what forwarding counted meanwhile (failures, an auto-disable) stays as stored.
  const saved = await saveDestination(env.DB, updated, { writeState: input.state !== undefined, resetFailures: resuming || newReceiver });
  if (!saved) throw new ApiError("not_found", "No destination with this id.");
  invalidateRoutingCache(env.DB);
  const result: UpdateResult = { destination: saved };
  if (state !== existing.state) result.stateChange = `${existing.state}->${state}`;
  if (resuming) {
    try {
      const step = await resumeStep(env, updated.id, now);
      result.resumed = { resumed: step.resumed, more: step.more };
    } catch (error) {
      // The destination is active: the next sweep resumes its waiting deliveries.
      log("warn", "resume failed; the sweeper will resume", { requestId: deps.requestId, destinationId: updated.id, error: describeError(error) });
    }
  }
  return result;
}

/** Delete a destination with its deliveries, attempts and dead letters. */
export async function removeDestination(deps: DestinationDeps, id: string): Promise<void> {
  if (!DESTINATION_ID.test(id) || !(await deleteDestination(deps.env.DB, id))) {
    throw new ApiError("not_found", "No destination with this id.");
  }
  invalidateRoutingCache(deps.env.DB);
}

/**
 * Give a destination a new signing secret; the one it replaces keeps signing (a second signature) for
 * `gracePeriodSeconds`. Answers the new secret (shown this once) and when the overlap ends.
 */
export async function rotateSecret(
  deps: DestinationDeps,
  id: string,
  input: { gracePeriodSeconds: number },
): Promise<{ id: string; secret: string; previousExpiresAt: number | null }> {
  const { env, config, now } = deps;
  const existing = await findDestination(env.DB, id);
  const keyring = await requireKeyring(config);
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
  if (!(await rotateSigningSecret(env.DB, existing.id, change, now))) {
    if (await getDestination(env.DB, existing.id)) {
      throw new ApiError("conflict", "The secret was rotated by another request at the same time; try again.");
    }
    throw new ApiError("not_found", "No destination with this id.");
  }
  return { id: existing.id, secret, previousExpiresAt };
}
