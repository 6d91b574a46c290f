/**
 * Sealing and opening the secret columns of `destinations` (signing_secret, previous_signing_secret,
 * okta_auth_value). Each value is bound to its column and its destination id (AES-GCM additional data), so a sealed
 * value copied to another column or row does not open. The admin API seals before writing; forwarding opens right
 * before signing; nothing else sees the clear values.
 */
import { open, seal, type Keyring, type OpenFailure } from "../crypto/secret-box";
import type { Destination } from "./destinations";

export type SecretColumn = "signing_secret" | "previous_signing_secret" | "okta_auth_value";

/** The additional data a column's value is sealed with. */
export function secretPurpose(column: SecretColumn, destinationId: string): string {
  return `destinations.${column}:${destinationId}`;
}

export function sealDestinationSecret(keyring: Keyring, column: SecretColumn, destinationId: string, value: string): Promise<string> {
  return seal(keyring, value, secretPurpose(column, destinationId));
}

export function openDestinationSecret(keyring: Keyring, column: SecretColumn, destinationId: string, sealed: string) {
  return open(keyring, sealed, secretPurpose(column, destinationId));
}

/** The clear values one delivery attempt at `now` needs. */
export interface DeliverySecrets {
  signingSecret: string;
  /** Only while its grace period lasts at `now`; null otherwise. */
  previousSigningSecret: string | null;
  /** Only for format okta. */
  oktaAuthValue: string | null;
}

/** Why the secrets could not be opened: no key configured, or a value a configured key cannot open. */
export type DeliverySecretsFailure = { column: SecretColumn; reason: OpenFailure | "no_key" };

/**
 * Open what an attempt at `now` needs: the signing secret, the previous one during its grace period, the okta auth
 * value for format okta. An expired previous secret is not opened (it no longer signs).
 */
export async function openDeliverySecrets(
  keyring: Keyring | null,
  d: Destination,
  now: number,
): Promise<{ ok: true; secrets: DeliverySecrets } | ({ ok: false } & DeliverySecretsFailure)> {
  if (keyring === null) return { ok: false, column: "signing_secret", reason: "no_key" };
  const current = await openDestinationSecret(keyring, "signing_secret", d.id, d.sealedSigningSecret);
  if (!current.ok) return { ok: false, column: "signing_secret", reason: current.reason };
  let previous: string | null = null;
  if (d.sealedPreviousSigningSecret !== null && d.previousSecretExpiresAt !== null && now < d.previousSecretExpiresAt) {
    const opened = await openDestinationSecret(keyring, "previous_signing_secret", d.id, d.sealedPreviousSigningSecret);
    if (!opened.ok) return { ok: false, column: "previous_signing_secret", reason: opened.reason };
    previous = opened.value;
  }
  let oktaAuthValue: string | null = null;
  if (d.format === "okta" && d.sealedOktaAuthValue !== null) {
    const opened = await openDestinationSecret(keyring, "okta_auth_value", d.id, d.sealedOktaAuthValue);
    if (!opened.ok) return { ok: false, column: "okta_auth_value", reason: opened.reason };
    oktaAuthValue = opened.value;
  }
  return { ok: true, secrets: { signingSecret: current.value, previousSigningSecret: previous, oktaAuthValue } };
}
