/**
 * Reading a JSON request body safely: media type first (415), then size (413: the declared Content-Length, and the
 * bytes actually read, since a chunked body declares none), then syntax (400). Nothing is parsed past the limit.
 */
import { ApiError } from "../errors";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_MEDIA_TYPE.test(contentType.trim());
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new ApiError("payload_too_large", `The request body is larger than ${maxBytes} bytes.`);
  }
  if (!request.body) return new Uint8Array(0);
  // A declared length within the limit is the body's length (HTTP framing): read it in one go, the runtime's fast
  // path. Without one (chunked), count the bytes as they arrive.
  if (declared !== null && /^\d+$/.test(declared)) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > maxBytes) throw new ApiError("payload_too_large", `The request body is larger than ${maxBytes} bytes.`);
    return body;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ApiError("payload_too_large", `The request body is larger than ${maxBytes} bytes.`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The parsed JSON body of `request`, or an ApiError (415, 413, 400). */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  return (await readJsonText(request, maxBytes)).value;
}

/** The JSON body of `request` as text (UTF-8 decoded, BOM removed) and parsed, or an ApiError (415, 413, 400). */
export async function readJsonText(request: Request, maxBytes: number): Promise<{ text: string; value: unknown }> {
  if (!isJsonMediaType(request.headers.get("content-type") ?? undefined)) {
    throw new ApiError("unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
  }
  const bytes = await readLimited(request, maxBytes);
  if (bytes.byteLength === 0) {
    throw new ApiError("malformed_json", "The request body is empty; a JSON object was expected.");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("malformed_json", "The request body is not valid UTF-8.");
  }
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch {
    throw new ApiError("malformed_json", "The request body is not valid JSON.");
  }
}

/**
 * How deeply `value` nests arrays and objects, counted without recursion (a recursive walk — zod's included — would
 * overflow the stack on a body like `[[[[…]]]]` thousands deep), stopping as soon as `limit` is passed.
 */
export function nestingExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}
