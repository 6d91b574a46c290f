/**
 * The one way tests call the gateway inside workerd: `request(path, {as})` builds the request with the credentials
 * of the caller it plays — Okta's event hook (`okta`), Okta's inline hook (`inline`), an operator (`admin`) or a
 * stranger (`anonymous`) — from test/test-config.ts, runs it through the Worker's fetch handler with a fresh
 * ExecutionContext, and waits for what it handed to waitUntil. The older helpers (callWorker, call, adminCall,
 * postInline, admin, eventHookPost) are thin shapes over the same pieces.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import type { InlineHookHandlers } from "../../src/handlers/types";
import worker from "../../src/index";
import { TEST_ADMIN_TOKEN, TEST_EVENT_SECRET_NEW, TEST_INLINE_SECRET } from "../test-config";
import { BASE, runFetch } from "./worker";

export type Caller = "okta" | "inline" | "admin" | "anonymous";

export const CREDENTIALS: Record<Caller, Record<string, string>> = {
  okta: { authorization: TEST_EVENT_SECRET_NEW },
  inline: { authorization: TEST_INLINE_SECRET },
  admin: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  anonymous: {},
};

export interface RequestOptions {
  as?: Caller;
  method?: string;
  /** A string is sent as is; anything else as JSON. A body sets `content-type: application/json` unless given. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Bindings or configuration replaced for this call (a new env object: configuration is parsed again). */
  env?: Partial<Env>;
  /** Inline hook handlers to decide with, instead of the registry in src/handlers. */
  handlers?: InlineHookHandlers;
}

export function buildRequest(path: string, options: RequestOptions = {}): Request {
  const hasBody = options.body !== undefined;
  const headers: Record<string, string> = {
    ...CREDENTIALS[options.as ?? "anonymous"],
    ...(hasBody ? { "content-type": "application/json" } : {}),
    ...options.headers,
  };
  return new Request(`${BASE}${path}`, {
    method: options.method ?? (hasBody ? "POST" : "GET"),
    headers,
    ...(hasBody ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) } : {}),
  });
}

/** Run `request` through the gateway (the Worker, or an app with the given handlers). */
export function send(request: Request, options: Pick<RequestOptions, "env" | "handlers"> = {}): Promise<Response> {
  const bindings = options.env && Object.keys(options.env).length > 0 ? ({ ...env, ...options.env } as Env) : (env as Env);
  const handler = options.handlers ? createApp({ inlineHookHandlers: options.handlers }) : worker;
  return runFetch(handler, request, bindings);
}

export function request(path: string, options: RequestOptions = {}): Promise<Response> {
  return send(buildRequest(path, options), options);
}
