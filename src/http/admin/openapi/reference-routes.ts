/**
 * GET /admin/api/openapi.json (the OpenAPI document, ./document.ts) and GET /admin/api/docs (its reference page),
 * open to anyone: mounted ahead of the admin API's token check (src/app.ts).
 *
 * The page is Swagger UI (https://swagger.io/docs/open-source-tools/swagger-ui/), built into the Worker's static
 * assets by api-reference/build.ts (dashboard/dist/api-reference/), not into the Worker's script: its 1.7 MB of
 * JavaScript would be most of the bundle. The Worker fetches the files through the ASSETS binding and serves them
 * under its own policy (API_REFERENCE_CSP, src/http/security-headers.ts): everything from this origin, nothing
 * inline, no other origin at run time. The "Try it out" calls go to this origin with the token typed into the page.
 */
import { Hono, type Context } from "hono";
import { ApiError } from "../../../errors";
import { VERSION } from "../../health";
import { apiReferenceSecurityHeaders } from "../../security-headers";
import type { AppEnv } from "../../types";
import { buildOpenApiDocument } from "./document";
import { ADMIN_API_ROUTES, ADMIN_API_TAGS } from "./routes";

/** Where api-reference/build.ts puts the page inside the assets directory. */
export const API_REFERENCE_ASSET_DIR = "/api-reference/";
/** The page's own files (scripts, style, icon, license texts): anything else is a 404 without a lookup. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,99}\.(?:js|css|png|txt)$/;

let document: string | undefined;

/** The document as JSON text, built once per isolate (it depends on the code only). */
export function openApiDocumentText(): string {
  document ??= JSON.stringify(buildOpenApiDocument(ADMIN_API_ROUTES, { version: VERSION, tags: ADMIN_API_TAGS }));
  return document;
}

/** `file` of the page's directory; "" is its index.html (the asset server answers a directory with it). */
async function serveReferenceFile(c: Context<AppEnv>, file: string): Promise<Response> {
  const assets = c.env.ASSETS;
  if (assets === undefined) {
    c.var.logFields.problem = "the ASSETS binding is missing";
    throw new ApiError("not_configured", "The reference page's files are not deployed with this Worker (wrangler.toml [assets]).");
  }
  const url = new URL(c.req.url);
  if (file !== "" && !ASSET_NAME.test(file)) throw new ApiError("not_found", `No route for ${c.req.method} ${url.pathname}.`);
  const fetched = await assets.fetch(new Request(new URL(`${API_REFERENCE_ASSET_DIR}${file}`, url), c.req.raw));
  if (fetched.status === 404) throw new ApiError("not_found", `No route for ${c.req.method} ${url.pathname}.`);
  // A copy: a fetched response's headers are immutable. Fixed names: always revalidated (ETag).
  const res = new Response(fetched.body, fetched);
  if (res.ok) res.headers.set("cache-control", "no-cache");
  return res;
}

export const apiReferenceRoutes = new Hono<AppEnv>();

apiReferenceRoutes.get("/openapi.json", (c) =>
  c.body(openApiDocumentText(), 200, { "content-type": "application/json; charset=UTF-8", "cache-control": "no-cache" }),
);
apiReferenceRoutes.get("/docs", apiReferenceSecurityHeaders, (c) => serveReferenceFile(c, ""));
apiReferenceRoutes.get("/docs/assets/:file", apiReferenceSecurityHeaders, (c) => serveReferenceFile(c, c.req.param("file")));
