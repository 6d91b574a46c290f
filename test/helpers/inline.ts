/** Calling the inline hook routes inside workerd, with real local D1 and a real execution context (waitUntil). */
import { afterEach, expect } from "vitest";
import type { Env } from "../../src/env";
import type { InlineHookHandlers } from "../../src/handlers/types";
import { fixture } from "./fixtures";
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

type Json = Record<string, any>;

/**
 * Rules created through the admin API by one test file, deleted after each test (storage is per test file, not per
 * test). Call at the top of the file; `created` is exposed for tests that delete one themselves.
 */
export function rulesPerTest() {
  const created: string[] = [];
  afterEach(async () => {
    while (created.length > 0) await admin("DELETE", `/rules/${created.pop()}`);
  });
  async function createRule(rule: Json): Promise<Json> {
    const res = await admin("POST", "/rules", rule);
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(201);
    created.push(body.id as string);
    return body;
  }
  return { created, createRule };
}

/** Okta's self-service registration request (the fixture) with these profile attributes submitted. */
export function ssrRequest(profile: Json): Json {
  const body = fixture("registration-hook.request.ssr.json") as Json;
  body.data.userProfile = { ...body.data.userProfile, ...profile };
  return body;
}
