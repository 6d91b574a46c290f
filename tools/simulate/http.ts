/**
 * One HTTP exchange the way Okta has it: the request is abandoned after Okta's timeout (3 s), and the answer is
 * read only as far as Okta's 256 KB limit (plus one byte, to know it was exceeded), so a runaway answer cannot
 * hold the simulator. Time runs from sending to the last byte read.
 */
import { MAX_RESPONSE_BYTES } from "../../src/okta/inline/common.ts";
import { OKTA_TIMEOUT_MS, type Answer } from "./contract/findings.ts";

export interface OutgoingRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface ExchangeOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<{ text: string; bytes: number }> {
  if (!body) return { text: "", bytes: 0 };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes <= limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = Buffer.concat(chunks).subarray(0, limit + 1);
  return { text: all.toString("utf8"), bytes: Math.min(bytes, limit + 1) };
}

export async function exchange(request: OutgoingRequest, options: ExchangeOptions = {}): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? OKTA_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_RESPONSE_BYTES;
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual", // Okta follows no redirects
      signal,
    });
    const { text, bytes } = await readBounded(response.body, maxBytes);
    return { status: response.status, contentType: response.headers.get("content-type"), body: text, bytes, ms: elapsed() };
  } catch (err) {
    const timedOut = signal.aborted;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const message = timedOut ? `no answer in ${timeoutMs} ms` : cause?.code ?? cause?.message ?? (err as Error).message;
    return { status: 0, contentType: null, body: "", bytes: 0, ms: elapsed(), failure: { kind: timedOut ? "timeout" : "network", message } };
  }
}
