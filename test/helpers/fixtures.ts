/** The Okta inline hook examples (test/fixtures/okta, see its SOURCES.md), grouped by hook type. */
import type { InlineHookType } from "../../src/okta/inline/common";

declare global {
  interface ImportMeta {
    /** Vite's import.meta.glob (the vitest plugin bundles tests with Vite); only the form used here. */
    glob<T>(pattern: string, options: { eager: true; import: "default" }): Record<string, T>;
  }
}

const all = import.meta.glob<unknown>("../fixtures/okta/**/*-hook.*.json", { eager: true, import: "default" });

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
  for (const [path, body] of Object.entries(all)) {
    const name = path.replace("../fixtures/okta/", "");
    const file = name.split("/").pop()!;
    if (file.endsWith(".headers.json")) continue;
    const [prefix, what] = file.split(".");
    const type = PREFIX_TO_TYPE[prefix!];
    if (type && what === kind) out.push({ name, type, body });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export const requestFixtures = collect("request");
export const responseFixtures = collect("response");

export function fixture(name: string): unknown {
  const body = all[`../fixtures/okta/${name}`];
  if (body === undefined) throw new Error(`no fixture ${name}`);
  return structuredClone(body);
}
