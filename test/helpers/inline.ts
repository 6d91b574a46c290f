/** Calling the inline hook routes inside workerd, with real local D1 and a real execution context (waitUntil). */
import type { Env } from "../../src/env";
import type { InlineHookHandlers } from "../../src/handlers/types";
import { buildRequest, request, send } from "./gateway";
import { TEST_ADMIN_TOKEN, TEST_INLINE_SECRET } from "../test-config";

export const INLINE_SECRET = TEST_INLINE_SECRET;
export const ADMIN_TOKEN = TEST_ADMIN_TOKEN;

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

export async function callWorker(request: Request, options: CallOptions = {}): Promise<Response> {
  return send(request, { env: { ...options.vars, ...options.bindings } as Partial<Env>, handlers: options.handlers });
}

export function postInline(type: string, body: unknown, options: CallOptions = {}): Promise<Response> {
  return callWorker(
    buildRequest(`/hooks/inline/${type}`, { as: "inline", method: "POST", body: options.rawBody ?? JSON.stringify(body), headers: options.headers }),
    options,
  );
}

export function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return request(`/admin/api${path}`, { as: "admin", method, body });
}
