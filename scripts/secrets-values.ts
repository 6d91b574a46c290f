/**
 * The gateway's secrets as `npm run secrets` makes them: which names it generates, in which format, how a rotation
 * list is built, and the text an operator pastes into Okta. Pure (no I/O), so tests pin every rule.
 *
 * Formats (README "Configuration"): hook secrets and admin tokens are opaque strings compared in full, so 32
 * random bytes as base64url (43 characters, no padding, safe in a header); SECRETS_ENCRYPTION_KEY is an AES-256
 * key, base64 of exactly 32 bytes. Every one is a comma-separated list: during a rotation the new value comes
 * first (for the encryption key the first one seals, so it must) and the old ones stay after it.
 */
import { fromBase64Any } from "../src/crypto/base64.ts";

export type SecretFormat = "token" | "aes-key";

export interface GatewaySecret {
  format: SecretFormat;
  /** One line: what it is for, shown next to its value. */
  purpose: string;
}

export const GATEWAY_SECRETS = {
  EVENT_HOOK_SECRETS: { format: "token", purpose: "the auth header value of your Okta event hooks" },
  INLINE_HOOK_SECRETS: { format: "token", purpose: "the auth header value of your Okta inline hooks" },
  ADMIN_TOKEN: { format: "token", purpose: "the bearer token of the admin API (/admin/api/…, /healthz details)" },
  SECRETS_ENCRYPTION_KEY: {
    format: "aes-key",
    purpose: "seals destination secrets in D1; not for Okta, keep it to rotate it later",
  },
} as const satisfies Record<string, GatewaySecret>;

export type GatewaySecretName = keyof typeof GATEWAY_SECRETS;

export function isGatewaySecret(name: string): name is GatewaySecretName {
  return Object.hasOwn(GATEWAY_SECRETS, name);
}

const KEY_BYTES = 32;

/** A fresh value from WebCrypto's CSPRNG. */
export function generateSecret(format: SecretFormat): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  return Buffer.from(bytes).toString(format === "aes-key" ? "base64" : "base64url");
}

export function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

/** Why a value cannot go into this secret's list, or undefined when it can. Never echoes the value. */
export function problemWith(format: SecretFormat, value: string): string | undefined {
  if (/[\s\p{Cc}]/u.test(value)) return "contains whitespace or a control character";
  if (format === "aes-key") {
    // The gateway's own decoder (src/config.ts reads the key list with it): base64 or base64url.
    const bytes = fromBase64Any(value);
    if (bytes === null) return "is not base64";
    if (bytes.length !== KEY_BYTES) return `is not base64 of ${KEY_BYTES} bytes`;
  }
  return undefined;
}

/**
 * The list to store for a rotation: the fresh value first, then the current ones (read back from the operator,
 * since Cloudflare never returns a secret), without repeats. Throws with the position of a bad entry: a list with
 * one bad key would make the gateway ignore SECRETS_ENCRYPTION_KEY entirely.
 */
export function rotationList(name: GatewaySecretName, current: string, fresh: string): string {
  const { format } = GATEWAY_SECRETS[name];
  const entries = splitList(current);
  if (entries.length === 0) throw new Error(`no current value of ${name} was given`);
  entries.forEach((entry, index) => {
    const problem = problemWith(format, entry);
    if (problem) throw new Error(`${name}: current value #${index + 1} ${problem}`);
  });
  return [fresh, ...entries].filter((value, index, all) => all.indexOf(value) === index).join(",");
}

/** The header name of a hook, as the gateway reads it: blank means `authorization`. */
export function headerName(vars: Record<string, string>, name: "EVENT_HOOK_AUTH_HEADER" | "INLINE_HOOK_AUTH_HEADER"): string {
  const value = vars[name]?.trim() ?? "";
  return value === "" ? "authorization" : value.toLowerCase();
}

/** What to paste where, for the values just stored (shown once: Cloudflare never shows a secret again). */
export function pasteInstructions(values: Partial<Record<GatewaySecretName, string>>, vars: Record<string, string>): string[] {
  const lines: string[] = [];
  if (values.EVENT_HOOK_SECRETS) {
    lines.push(
      "Okta event hooks (Admin Console: Workflow > Event Hooks, or authScheme in the API / Terraform):",
      `  Authentication field   ${headerName(vars, "EVENT_HOOK_AUTH_HEADER")}`,
      `  Authentication secret  ${values.EVENT_HOOK_SECRETS}`,
    );
  }
  if (values.INLINE_HOOK_SECRETS) {
    lines.push(
      "Okta inline hooks, HTTP header authentication (Workflow > Inline Hooks):",
      `  Authentication field   ${headerName(vars, "INLINE_HOOK_AUTH_HEADER")}`,
      `  Authentication secret  ${values.INLINE_HOOK_SECRETS}`,
    );
  }
  if (values.ADMIN_TOKEN) {
    lines.push("Admin API (your own scripts and the admin CLI):", `  Authorization: Bearer ${values.ADMIN_TOKEN}`);
  }
  if (values.SECRETS_ENCRYPTION_KEY) {
    lines.push(
      "SECRETS_ENCRYPTION_KEY (not for Okta: keep it, a rotation needs it):",
      `  ${values.SECRETS_ENCRYPTION_KEY}`,
    );
  }
  return lines;
}
