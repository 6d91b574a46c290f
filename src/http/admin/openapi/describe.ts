/**
 * What the OpenAPI document says of one route: a plain record per method and path, written next to its area
 * (./destinations.ts, ./events.ts, …) and listed once in ./routes.ts. The document (./document.ts) is generated
 * from these records and from the same zod schemas the routes validate with, so a request schema is never written
 * twice; response schemas are written here, checked against the views' TypeScript types (`Same`) and, in the
 * tests, against real responses.
 *
 * Why records beside the routers and not a router class such as @hono/zod-openapi's: the admin routes are plain
 * Hono routers, and describing them leaves their behaviour exactly as it is.
 */
import type * as z from "zod";
import type { ErrorCode } from "../../../errors";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface ResponseDescription {
  description: string;
  /** A JSON body described by this schema (its output side); absent: no body (204) or a non-JSON `mediaType`. */
  schema?: z.ZodType;
  /** A body that is not JSON (the reference page, its files). */
  mediaType?: string;
  /** Response headers worth knowing (`location`, `cache-control`). */
  headers?: Record<string, string>;
}

export interface RouteDescription {
  method: HttpMethod;
  /** The path as the app registers it: `/admin/api/destinations/:id`. */
  path: string;
  /** Unique, stable, camelCase: what generated clients name the call. */
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Who may call it: the admin bearer token (the default) or anyone (the document and its reference page). */
  auth?: "admin" | "none";
  /** Every `:name` of the path, described (the document refuses a path parameter without one). */
  params?: Record<string, { description: string; schema: z.ZodType }>;
  /**
   * The query string, as the route validates it. `errorCode` is the code a bad parameter answers with
   * (`invalid_query` through src/http/validated-query.ts; `bad_request` on the stats and rules routes).
   */
  query?: { schema: z.ZodType; descriptions?: Record<string, string>; errorCode?: "invalid_query" | "bad_request" };
  /** A JSON body, read by src/http/validated-json.ts: adds its 400/413/415 answers. `optional`: may be absent. */
  body?: { schema: z.ZodType; description?: string; optional?: boolean };
  /** Success answers by status. */
  responses: Partial<Record<200 | 201 | 202 | 204, ResponseDescription>>;
  /**
   * Error codes the route itself can answer, beyond those that follow from the above (auth: 401 and 503; a body:
   * malformed_json, invalid_body, payload_too_large, unsupported_media_type; a query: its errorCode; every D1-backed
   * route: storage_unavailable). Each is documented under its status with our error body.
   */
  errors?: readonly ErrorCode[];
  /** Why each error code is answered here, when the code alone does not say it. */
  errorNotes?: Partial<Record<ErrorCode, string>>;
}

/**
 * True when A and B are the same type (not merely assignable): lets a description module assert at compile time
 * that a response schema describes exactly what a view function returns, e.g.
 * `export type DestinationDescribed = Assert<Same<z.output<typeof destination>, ReturnType<typeof destinationView>>>`.
 */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when T is `true`. */
export type Assert<T extends true> = T;
