/** Turning a zod error into one public sentence that names the offending field. Pure. */
import type * as z from "zod";

/** `data.events[3].uuid` from a zod issue path. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * "data.events[3].uuid: is required" — the first problem, naming the offending field. `input` is what was
 * validated: zod does not keep it in its issues, and "missing" reads better than "expected string".
 */
export function describeFirstIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return "The request body is invalid.";
  const path = formatIssuePath(issue.path);
  const missing = issue.code === "invalid_type" && issue.path.length > 0 && valueAt(input, issue.path) === undefined;
  const message = missing ? "is required" : issue.message;
  return path ? `${path}: ${message}` : message;
}

/**
 * True when `text` holds a lone UTF-16 surrogate (`"\ud800"` is valid JSON): D1 stores text as UTF-8, so such a
 * string would be read back as something else (U+FFFD) than what was accepted and answered.
 */
export function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
