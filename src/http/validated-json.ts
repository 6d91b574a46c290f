/**
 * Reading and validating a JSON body of our own API (admin, not Okta) against a strict zod schema, so every 400
 * looks the same: {"error":{"code":"invalid_body","message":"<field>: <problem>"}}.
 */
import type * as z from "zod";
import { ApiError } from "../errors";
import { describeFirstIssue } from "../validation";
import { nestingExceeds, readJsonBody } from "./json-body";

/** Admin request bodies are small; this bounds them whatever MAX_BODY_BYTES says. */
export const ADMIN_MAX_BODY_BYTES = 64 * 1024;
/** Deepest nesting of arrays and objects an admin body may have (a rule's static claim value is the deepest part). */
export const ADMIN_MAX_BODY_DEPTH = 32;

export async function readValidatedJson<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const body = await readJsonBody(request, ADMIN_MAX_BODY_BYTES);
  // Checked before the schema: validating a value thousands of levels deep would overflow the stack (a 500).
  if (nestingExceeds(body, ADMIN_MAX_BODY_DEPTH)) {
    throw new ApiError("invalid_body", `The request body nests arrays and objects deeper than ${ADMIN_MAX_BODY_DEPTH} levels.`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError("invalid_body", describeFirstIssue(parsed.error, body));
  return parsed.data;
}
