/**
 * The Okta examples (test/fixtures/okta, copied from shared/okta/examples with SOURCES.md) as raw text, byte for
 * byte, loaded by Vite at build time: workerd has no file system. Inline hook examples are also grouped by type.
 */
import type { InlineHookType } from "../../src/okta/inline/common";

const raw = import.meta.glob<string>("../fixtures/okta/**/*.{json,http}", {
  eager: true,
  query: "?raw",
  import: "default",
});

/** Raw text of a fixture by its path below test/fixtures/okta, e.g. "captured/event-hook.delivery.user-lifecycle-create.json". */
export function fixtureText(name: string): string {
  const text = raw[`../fixtures/okta/${name}`];
  if (text === undefined) throw new Error(`No fixture ${name}`);
  return text;
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** A fixture parsed as JSON (a fresh copy each call, so tests may change it). */
export function fixture(name: string): unknown {
  return fixtureJson(name);
}

/** Fixture names (relative paths) matching a pattern. */
export function fixtureNames(pattern: RegExp): string[] {
  return Object.keys(raw)
    .map((k) => k.replace("../fixtures/okta/", ""))
    .filter((k) => pattern.test(k))
    .sort();
}

const PREFIX_TO_TYPE: Record<string, InlineHookType> = {
  "token-hook": "token",
  "registration-hook": "registration",
  "password-import-hook": "password-import",
  "saml-hook": "saml",
  "user-import-hook": "user-import",
  "telephony-hook": "telephony",
};

export interface Fixture {
  /** Path below test/fixtures/okta, e.g. "openapi/token-hook.request.TokenPayLoadExample.json". */
  name: string;
  type: InlineHookType;
  body: unknown;
}

function collect(kind: "request" | "response"): Fixture[] {
  const out: Fixture[] = [];
  for (const name of fixtureNames(/-hook\.[^/]*\.json$/)) {
    const file = name.split("/").pop()!;
    if (file.endsWith(".headers.json")) continue;
    const [prefix, what] = file.split(".");
    const type = PREFIX_TO_TYPE[prefix!];
    if (type && what === kind) out.push({ name, type, body: fixtureJson(name) });
  }
  return out;
}

/** Every inline hook request example, by type. */
export const requestFixtures = collect("request");
/** Every inline hook response example, by type. */
export const responseFixtures = collect("response");
