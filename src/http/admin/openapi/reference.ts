/**
 * The OpenAPI description of the document itself and of its reference page (./reference-routes.ts). Both are open:
 * they describe an open-source API and hold no data, and the page must be able to load the document before anyone
 * has typed a token into it.
 */
import * as z from "zod";
import type { RouteDescription } from "./describe";

export const referenceRouteDescriptions: RouteDescription[] = [
  {
    method: "get",
    path: "/admin/api/openapi.json",
    operationId: "getOpenApiDocument",
    tag: "Reference",
    summary: "This OpenAPI 3.1 document",
    auth: "none",
    responses: { 200: { description: "The document.", schema: z.looseObject({ openapi: z.string() }) } },
  },
  {
    method: "get",
    path: "/admin/api/docs",
    operationId: "getApiReferencePage",
    tag: "Reference",
    summary: "The interactive reference page (Swagger UI)",
    description: "Served with the Worker's static assets; loads nothing from another origin.",
    auth: "none",
    responses: { 200: { description: "The page.", mediaType: "text/html" } },
    errors: ["not_configured"],
    errorNotes: { not_configured: "The page's files are not deployed with this Worker (wrangler.toml [assets])." },
  },
  {
    method: "get",
    path: "/admin/api/docs/assets/:file",
    operationId: "getApiReferenceAsset",
    tag: "Reference",
    summary: "A file of the reference page",
    auth: "none",
    params: { file: { description: "The file's name, e.g. `swagger-ui-bundle.js`.", schema: z.string() } },
    responses: { 200: { description: "The file (JavaScript, CSS or an image).", mediaType: "application/octet-stream" } },
    errors: ["not_found", "not_configured"],
    errorNotes: { not_configured: "The page's files are not deployed with this Worker (wrangler.toml [assets])." },
  },
];
