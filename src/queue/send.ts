/**
 * One HTTP attempt at a destination: POST with the destination's timeout, redirects not followed (a 3xx is a
 * failure: following it could lead to a host the URL guard would refuse), the response body discarded.
 * Resolves whatever happens; the error text it reports is short and names no URL path, query or header.
 */
import type { SendResult } from "../forwarding/attempt";

export const MAX_ERROR_CHARS = 300;

/** Cut a reason to MAX_ERROR_CHARS and take the destination URL out of it (its path may hold a token). */
export function sanitizeError(message: string, url: URL): string {
  const scrubbed = message.split(url.href).join(url.origin).split(url.pathname + url.search).join("/…");
  return scrubbed.length > MAX_ERROR_CHARS ? `${scrubbed.slice(0, MAX_ERROR_CHARS - 1)}…` : scrubbed;
}

export async function sendOnce(
  url: URL,
  request: { body: string; headers: Record<string, string> },
  timeoutMs: number,
): Promise<SendResult> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const latencyMs = Date.now() - started;
    // Free the connection; the body is never stored (it could echo anything back).
    await response.body?.cancel().catch(() => undefined);
    const { status } = response;
    let error: string | null = null;
    if (status >= 300 && status <= 399) error = `HTTP ${status}: redirects are not followed; update the destination URL`;
    else if (status < 200 || status > 299) error = `HTTP ${status}`;
    return { status, error, retryAfter: response.headers.get("retry-after"), latencyMs };
  } catch (err) {
    const latencyMs = Date.now() - started;
    const name = err instanceof Error ? err.name : "";
    const error =
      name === "TimeoutError" || name === "AbortError"
        ? `timeout: no response within ${timeoutMs} ms`
        : sanitizeError(`network error: ${err instanceof Error ? err.message : String(err)}`, url);
    return { status: null, error, retryAfter: null, latencyMs };
  }
}
