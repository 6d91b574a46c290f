/**
 * Where the simulator sends and with which secrets: the gateway's own configuration names, taken from (first
 * wins) the command line, the environment, `.dev.vars` (what `npm start` writes and `wrangler dev` reads) and
 * wrangler.toml's [vars] (the auth header names). A list of secrets (rotation) sends the first; pick another with
 * --event-secret / --inline-secret. Secrets are used for the requests only and never printed.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import type { HookAuth } from "./okta-headers.ts";

export const DEFAULT_URL = "http://127.0.0.1:8787";
const ROOT = new URL("../../", import.meta.url);

export interface SettingsInput {
  url?: string;
  eventSecret?: string;
  inlineSecret?: string;
  eventAuthHeader?: string;
  inlineAuthHeader?: string;
  /** Path of the .dev.vars to read; the repository's by default. */
  devVars?: string;
  env?: Record<string, string | undefined>;
}

export interface Settings {
  baseUrl: string;
  eventAuth: HookAuth | null;
  inlineAuth: HookAuth | null;
  /** Where each value came from, for the report: "flag", "environment", ".dev.vars", "wrangler.toml", "default". */
  sources: Record<string, string>;
}

/** The [vars] table of wrangler.toml, simple `KEY = "value"` lines only (all it holds for these names). */
export function wranglerVars(text: string): Record<string, string> {
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? "";
  const vars: Record<string, string> = {};
  for (const m of section.matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)) vars[m[1]!] = m[2]!;
  return vars;
}

function readIfExists(file: URL | string): string | undefined {
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

export function resolveSettings(input: SettingsInput): Settings {
  const env = input.env ?? process.env;
  const devVarsText = readIfExists(input.devVars ?? new URL(".dev.vars", ROOT));
  const devVars = devVarsText === undefined ? {} : parseEnv(devVarsText);
  const tomlText = readIfExists(new URL("wrangler.toml", ROOT));
  const toml = tomlText === undefined ? {} : wranglerVars(tomlText);
  const sources: Record<string, string> = {};

  const pick = (name: string, flag: string | undefined, fromToml: boolean): string | undefined => {
    const candidates: Array<[string, string | undefined]> = [
      ["flag", flag],
      ["environment", env[name]],
      [".dev.vars", devVars[name]],
      ["wrangler.toml", fromToml ? toml[name] : undefined],
    ];
    for (const [source, value] of candidates) {
      if (value !== undefined && value.trim() !== "") {
        sources[name] = source;
        return value;
      }
    }
    return undefined;
  };
  const firstSecret = (value: string | undefined) => value?.split(",").map((s) => s.trim()).find((s) => s !== "");
  const header = (name: string, flag: string | undefined) => {
    const value = pick(name, flag, true);
    if (value === undefined) sources[name] = "default";
    return (value ?? "authorization").trim().toLowerCase();
  };

  const eventSecret = firstSecret(pick("EVENT_HOOK_SECRETS", input.eventSecret, false));
  const inlineSecret = firstSecret(pick("INLINE_HOOK_SECRETS", input.inlineSecret, false));
  const eventHeader = header("EVENT_HOOK_AUTH_HEADER", input.eventAuthHeader);
  const inlineHeader = header("INLINE_HOOK_AUTH_HEADER", input.inlineAuthHeader);
  const baseUrl = (input.url ?? DEFAULT_URL).replace(/\/+$/, "");
  return {
    baseUrl,
    eventAuth: eventSecret ? { header: eventHeader, secret: eventSecret } : null,
    inlineAuth: inlineSecret ? { header: inlineHeader, secret: inlineSecret } : null,
    sources,
  };
}
