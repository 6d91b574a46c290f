/**
 * Reading the query string of our own API (admin, not Okta) against a strict zod schema, so every bad parameter
 * answers like a bad body: 400 {"error":{"code":"invalid_query","message":"<parameter>: <problem>"}}. A parameter
 * given twice is refused rather than one of its values silently picked.
 */
import type * as z from "zod";
import { ApiError } from "../errors";
import { describeFirstIssue } from "../validation";

/** Longest query string accepted (a search has a handful of short parameters). */
export const MAX_QUERY_CHARS = 4096;

export function readValidatedQuery<S extends z.ZodType>(url: string, schema: S): z.infer<S> {
  const { search, searchParams } = new URL(url);
  if (search.length > MAX_QUERY_CHARS) throw new ApiError("invalid_query", `The query string is longer than ${MAX_QUERY_CHARS} characters.`);
  const seen = new Map<string, string>();
  for (const [key, value] of searchParams) {
    if (seen.has(key)) throw new ApiError("invalid_query", `${key.slice(0, 100)}: is given more than once`);
    seen.set(key, value);
  }
  // fromEntries defines own properties, so a key like "__proto__" is just an unknown parameter.
  const query = Object.fromEntries(seen);
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new ApiError("invalid_query", describeFirstIssue(parsed.error, query));
  return parsed.data;
}
