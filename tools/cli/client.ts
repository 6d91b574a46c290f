/**
 * The admin API over HTTP (/admin/api, Bearer token): one call per request, JSON in and out, every failure turned
 * into ApiRefusal (the gateway answered an error) or Unreachable (no answer). Each call is bounded in time.
 */
import { ApiRefusal, Interrupted, Unreachable } from "./errors.ts";

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiClient {
  /** `path` below /admin/api (`/destinations`); resolves to the parsed JSON body, or undefined for 204. */
  call<T = unknown>(method: string, path: string, options?: { query?: Query; body?: unknown }): Promise<T>;
}

export interface ClientSettings {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  /** Per request; the API answers in milliseconds, a replay dry run over a large range in seconds. */
  timeoutMs?: number;
  /** Ctrl-C: aborts the request in flight. */
  signal?: AbortSignal;
}

export const REQUEST_TIMEOUT_MS = 60_000;

function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

export function apiClient(settings: ClientSettings): ApiClient {
  const doFetch = settings.fetch ?? fetch;
  const timeoutMs = settings.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const root = settings.baseUrl.replace(/\/+$/, "");
  return {
    async call<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
      const url = new URL(`${root}/admin/api${path}`);
      for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
      const headers: Record<string, string> = { authorization: `Bearer ${settings.token}`, accept: "application/json" };
      if (options.body !== undefined) headers["content-type"] = "application/json";
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers,
          ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
          redirect: "manual",
          signal: settings.signal ? AbortSignal.any([settings.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (settings.signal?.aborted) throw new Interrupted();
        throw new Unreachable(root, networkReason(error, timeoutMs));
      }
      const text = await res.text().catch(() => "");
      if (res.status === 204) return undefined as T;
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!res.ok) {
        const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
        if (typeof error?.code === "string" && typeof error.message === "string") throw new ApiRefusal(res.status, error.code, error.message);
        throw new ApiRefusal(res.status, `http_${res.status}`, `HTTP ${res.status} from ${url.origin} without the API's error body: is --url a gateway?`);
      }
      if (body === undefined) throw new ApiRefusal(res.status, "not_json", `HTTP ${res.status} from ${url.origin} that is not JSON: is --url a gateway?`);
      return body as T;
    },
  };
}
