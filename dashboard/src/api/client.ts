/**
 * The one way the dashboard calls the gateway: same origin, `Authorization: Bearer <admin token>`, no cookie, no
 * cache, no redirect followed. A 401 ends the session (back to sign-in, saying why); any other failure is an
 * ApiFailure with the API's code and message.
 */
import { signOut, token } from "../session";
import { ApiFailure } from "./errors";

export const SESSION_ENDED = "The gateway refused the admin token (it may have been rotated). Sign in again.";

export interface CallOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  /** Use this token instead of the session's (sign-in checks a token before keeping it). */
  token?: string;
  signal?: AbortSignal;
}

async function errorOf(res: Response): Promise<ApiFailure> {
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string" && typeof body.error.message === "string") {
      return new ApiFailure(res.status, body.error.code, body.error.message);
    }
  } catch {
    // not our error body
  }
  return new ApiFailure(res.status, "http_error", `The gateway answered ${res.status}.`);
}

/** Call `path` (an absolute path on this origin) and return its JSON (undefined for 204). */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const bearer = options.token ?? token.value;
  const headers: Record<string, string> = { accept: "application/json" };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      ...(options.signal && { signal: options.signal }),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiFailure(0, "network", "The gateway did not answer. Check your connection and try again.");
  }
  if (res.status === 401) {
    const failure = await errorOf(res);
    // Only the session's own token ends the session; a token being tried at sign-in is just refused.
    if (options.token === undefined) signOut(SESSION_ENDED);
    throw failure;
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A query string from the fields that are set. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Whether a failure means "this gateway has no such endpoint (yet)". */
export const isMissingEndpoint = (error: unknown) => error instanceof ApiFailure && error.status === 404;
