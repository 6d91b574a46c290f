/**
 * Checking real answers of the admin API against its OpenAPI document (/admin/api/openapi.json): `conforms(res,
 * method, path)` finds the operation and the response documented for the answer's status — failing when there is
 * none — and validates the body against its schema with @cfworker/json-schema (JSON Schema 2020-12, runs inside
 * workerd). The document's object schemas are open to later fields; here they are closed
 * (`additionalProperties: false`), so a field the API answers but the document does not describe fails too.
 */
import { Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { request } from "./gateway";

type Json = { [key: string]: unknown };
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, Json>; security?: unknown[] }>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json> };
}

export async function fetchDocument(): Promise<OpenApiDocument> {
  const res = await request("/admin/api/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDocument;
}

/** Every object schema with its properties listed admits no other property. */
function closed<T>(node: T): T {
  if (Array.isArray(node)) return node.map(closed) as T;
  if (typeof node !== "object" || node === null) return node;
  const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, closed(v)])) as Json;
  if (copy.type === "object" && copy.properties !== undefined && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy as T;
}

/** The response object documented for `status`, refs followed. */
function documentedResponse(doc: OpenApiDocument, method: string, path: string, status: number): Json | undefined {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  expect(operation, `${method} ${path} is in the document`).toBeDefined();
  const response = operation!.responses[String(status)];
  const ref = response?.$ref;
  return typeof ref === "string" ? doc.components.responses[ref.replace("#/components/responses/", "")] : response;
}

/**
 * Assert that `res` is an answer the document describes for `method path` (`path` as in the document:
 * `/admin/api/destinations/{id}`), and answer its parsed JSON body (undefined when it has none).
 */
export async function conforms(doc: OpenApiDocument, res: Response, method: string, path: string): Promise<unknown> {
  const text = await res.text();
  const response = documentedResponse(doc, method, path, res.status);
  expect(response, `${method} ${path} documents status ${res.status} (body: ${text.slice(0, 300)})`).toBeDefined();
  const content = response!.content as Record<string, { schema: Json }> | undefined;
  if (content === undefined) {
    expect(text, `${method} ${path} ${res.status} has no body`).toBe("");
    return undefined;
  }
  const json = content["application/json"];
  expect(json, `${method} ${path} ${res.status} is documented as JSON`).toBeDefined();
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as unknown;
  const validator = new Validator({ ...closed(json!.schema), components: { schemas: closed(doc.components.schemas) } } as never, "2020-12", false);
  const result = validator.validate(body);
  expect(result.valid, `${method} ${path} ${res.status} fits its schema: ${JSON.stringify(result.errors.slice(-4))}\n${text.slice(0, 600)}`).toBe(true);
  return body;
}
