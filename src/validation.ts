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

/** "data.events[3].uuid: is required" — the first problem, naming the offending field. */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "The request body is invalid.";
  const path = formatIssuePath(issue.path);
  const message = issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
  return path ? `${path}: ${message}` : message;
}
