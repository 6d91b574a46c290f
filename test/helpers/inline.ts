/** Calling the inline hook routes inside workerd, with real local D1 and a real execution context (waitUntil). */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import type { InlineHookHandlers } from "../../src/handlers/types";
import { runFetch } from "./worker";

/** INLINE_HOOK_SECRETS in vitest.config.ts. */
export const INLINE_SECRET = "test-inline-secret";
export const ADMIN_TOKEN = "test-admin-token";

export interface CallOptions {
  headers?: Record<string, string>;
  /** Configuration overrides (a new env object, so the configuration is parsed again). */
  vars?: Partial<Record<keyof Env, string>>;
  handlers?: InlineHookHandlers;
  /** Binding overrides, e.g. a D1 that fails. */
  bindings?: Partial<Env>;
  /** Send this exact body text instead of JSON.stringify(body). */
  rawBody?: string;
}

const defaultApp = createApp();

export async function callWorker(request: Request, options: CallOptions = {}): Promise<Response> {
  const app = options.handlers ? createApp({ inlineHookHandlers: options.handlers }) : defaultApp;
  const overridden = options.vars || options.bindings ? { ...env, ...options.vars, ...options.bindings } : env;
  return runFetch(app, request, overridden as Env);
}

export function postInline(type: string, body: unknown, options: CallOptions = {}): Promise<Response> {
  const request = new Request(`https://gateway.test/hooks/inline/${type}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: INLINE_SECRET, ...options.headers },
    body: options.rawBody ?? JSON.stringify(body),
  });
  return callWorker(request, options);
}

export function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const request = new Request(`https://gateway.test/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return callWorker(request);
}
