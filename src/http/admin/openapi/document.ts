/**
 * The OpenAPI 3.1 document of the admin API (https://spec.openapis.org/oas/v3.1.0), generated from the route
 * descriptions (./routes.ts) and the zod schemas the routes validate with (./json-schema.ts).
 *
 * What each operation gets without being told: its path parameters, its query parameters (one per property of the
 * query schema, required when the schema requires it), the bearer security scheme, and the error answers that follow
 * from what it reads — 401/503 from the admin token, 400/413/415 from a JSON body, 400 from a query, 503 when D1
 * fails — each with our error body, its `code` narrowed to the codes that status can carry there.
 */
import { ERROR_STATUS, type ErrorCode } from "../../../errors";
import { errorBody } from "./common";
import type { RouteDescription } from "./describe";
import { toOpenApiSchema, type JsonSchema } from "./json-schema";

export const OPENAPI_VERSION = "3.1.0";
const ERROR_REF = { $ref: "#/components/schemas/Error" };

/** What an error code means when the route adds nothing of its own. */
const ERROR_MEANING: Record<ErrorCode, string> = {
  bad_request: "A query or path parameter is unknown, repeated or invalid; the message names it.",
  malformed_json: "The body is not JSON (or is empty, or not UTF-8).",
  invalid_body: "The body does not fit its schema, or names something that does not exist; the message names the field.",
  invalid_query: "A query parameter is unknown, repeated or invalid; the message names it.",
  missing_challenge: "The verification header is missing.",
  unauthorized: "The Authorization header is missing or holds no valid admin token (the answer carries WWW-Authenticate: Bearer).",
  not_found: "No such resource.",
  method_not_allowed: "The method is not allowed here.",
  conflict: "The request conflicts with the current state.",
  payload_too_large: "The body is over 64 KiB.",
  unsupported_media_type: "The body is not declared application/json.",
  not_configured: "ADMIN_TOKEN is not set: the admin API is closed.",
  storage_unavailable: "D1 failed; try again.",
  internal: "A bug; the request id identifies it in the logs.",
};

const BODY_ERRORS: readonly ErrorCode[] = ["malformed_json", "invalid_body", "payload_too_large", "unsupported_media_type"];

/** Every error code an operation can answer with, in status order. */
export function errorCodesOf(route: RouteDescription): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.errors ?? []);
  if ((route.auth ?? "admin") === "admin") {
    codes.add("unauthorized").add("not_configured").add("storage_unavailable");
  }
  if (route.body) for (const code of BODY_ERRORS) codes.add(code);
  if (route.query) codes.add(route.query.errorCode ?? "invalid_query");
  return [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b] || a.localeCompare(b));
}

/** `/admin/api/destinations/:id` → `/admin/api/destinations/{id}` and its parameter names. */
export function openApiPath(honoPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = honoPath.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

const pascal = (code: string) => code.replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The error answers of `route` by status, as refs into `shared` (components.responses): the same answer — same
 * codes, same notes — is written once, named after its codes (`NotFound`, `NotConfiguredStorageUnavailable`).
 */
function errorResponses(route: RouteDescription, shared: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const refs: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(errorResponseObjects(route))) {
    const codes = ((response.content as JsonSchema)["application/json"] as { schema: { properties: { error: { properties: { code: { enum: string[] } } } } } })
      .schema.properties.error.properties.code.enum;
    const base = codes.map(pascal).join("");
    const text = JSON.stringify(response);
    let name = base;
    for (let n = 2; shared[name] !== undefined && JSON.stringify(shared[name]) !== text; n++) name = `${base}${n}`;
    shared[name] = response;
    refs[status] = { $ref: `#/components/responses/${name}` };
  }
  return refs;
}

function errorResponseObjects(route: RouteDescription): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(route)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<string, JsonSchema> = {};
  for (const [status, codes] of byStatus) {
    const isAdmin = (route.auth ?? "admin") === "admin";
    const lines = codes.map((code) => {
      const own = route.errorNotes?.[code];
      const meaning = code === "not_configured" && isAdmin ? `${ERROR_MEANING.not_configured}${own ? ` Or: ${own}` : ""}` : (own ?? ERROR_MEANING[code]);
      return `\`${code}\`: ${meaning}`;
    });
    responses[String(status)] = {
      description: lines.join("\n\n"),
      ...(status === 401 && { headers: { "www-authenticate": { description: 'Bearer realm="okta-hooks-edge admin"', schema: { type: "string" } } } }),
      content: {
        "application/json": {
          schema: { allOf: [ERROR_REF], properties: { error: { properties: { code: { enum: codes } } } } },
        },
      },
    };
  }
  return responses;
}

export interface DocumentInfo {
  version: string;
  tags: ReadonlyArray<{ name: string; description: string }>;
}

export function buildOpenApiDocument(routes: readonly RouteDescription[], info: DocumentInfo): JsonSchema {
  const schemas: Record<string, JsonSchema> = {};
  const sharedResponses: Record<string, JsonSchema> = {};
  toOpenApiSchema(errorBody, "output", schemas);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const operationIds = new Set<string>();

  for (const route of routes) {
    const { path, params } = openApiPath(route.path);
    const described = Object.keys(route.params ?? {});
    if (params.join() !== described.join()) {
      throw new Error(`OpenAPI: ${route.method.toUpperCase()} ${route.path} describes parameters [${described}] for [${params}]`);
    }
    if (operationIds.has(route.operationId)) throw new Error(`OpenAPI: operationId ${route.operationId} is used twice`);
    operationIds.add(route.operationId);
    const item = (paths[path] ??= {});
    if (item[route.method]) throw new Error(`OpenAPI: ${route.method.toUpperCase()} ${path} is described twice`);

    const parameters: JsonSchema[] = params.map((name) => ({
      name,
      in: "path",
      required: true,
      description: route.params![name]!.description,
      schema: toOpenApiSchema(route.params![name]!.schema, "input", schemas),
    }));
    if (route.query) {
      const query = toOpenApiSchema(route.query.schema, "input", schemas);
      const required = new Set((query.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
        const { description, ...rest } = schema;
        const text = route.query.descriptions?.[name] ?? (description as string | undefined);
        parameters.push({ name, in: "query", required: required.has(name), ...(text && { description: text }), schema: rest });
      }
    }

    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const headers = Object.entries(response.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: "string" } }]);
      responses[status] = {
        description: response.description,
        ...(headers.length > 0 && { headers: Object.fromEntries(headers) }),
        ...(response.schema && { content: { "application/json": { schema: toOpenApiSchema(response.schema, "output", schemas) } } }),
        ...(response.mediaType && { content: { [response.mediaType]: { schema: { type: "string" } } } }),
      };
    }
    Object.assign(responses, errorResponses(route, sharedResponses));

    item[route.method] = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description && { description: route.description }),
      ...((route.auth ?? "admin") === "none" && { security: [] }),
      ...(parameters.length > 0 && { parameters }),
      ...(route.body && {
        requestBody: {
          required: route.body.optional !== true,
          ...(route.body.description && { description: route.body.description }),
          content: { "application/json": { schema: toOpenApiSchema(route.body.schema, "input", schemas) } },
        },
      }),
      responses,
    };
  }

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "okta-hooks-edge admin API",
      version: info.version,
      description: [
        "The admin API of an okta-hooks-edge gateway: forwarding destinations, stored Okta events and where they went,",
        "replays, dead letters, inline hook rules and stats. Every operation but this document and its reference page",
        "takes `Authorization: Bearer <ADMIN_TOKEN>`. Errors are always `{\"error\":{\"code\",\"message\"}}`.",
        "Request bodies are strict (an unknown field is a 400 naming it); answers may gain fields: ignore those you do not know.",
      ].join(" "),
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "This gateway." }],
    security: [{ adminToken: [] }],
    tags: info.tags,
    paths,
    components: {
      schemas,
      responses: sharedResponses,
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "One of the comma-separated tokens of ADMIN_TOKEN." },
      },
    },
  };
}
