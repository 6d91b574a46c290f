/**
 * Error codes of our own API and the one JSON error body: {"error":{"code":"…","message":"…"}}.
 *
 * Every failure a route can produce is an ApiError with a code from this table; the status follows from the code,
 * so the same situation always answers the same way. The message is public: it says what is wrong with the
 * request, never a secret, a stack trace or a storage detail (those go to the log line, by the caller).
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERROR_STATUS = {
  bad_request: 400,
  malformed_json: 400,
  invalid_body: 400,
  invalid_query: 400,
  missing_challenge: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_configured: 503,
  storage_unavailable: 503,
  internal: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. WWW-Authenticate. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERROR_STATUS[code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
