/**
 * The dashboard at /admin (docs/dashboard.md): static files built from dashboard/ by dashboard/build.ts and
 * deployed as Workers static assets (wrangler.toml [assets]). The Worker runs first for every request
 * (`run_worker_first = true`), so the hook routes and /admin/api never meet the asset server, and it fetches the
 * dashboard's files through the ASSETS binding to set the dashboard's Content-Security-Policy on them
 * (./security-headers.ts). Only /admin/ (the page) and /admin/assets/* are served, /admin redirects to /admin/, and
 * anything else — a file that does not exist included — is the API's JSON 404. The asset server answers ETag
 * revalidation.
 *
 * The files hold no secret and no data: the page asks for the admin token and calls /admin/api with it.
 * See https://developers.cloudflare.com/workers/static-assets/binding/.
 */
import { Hono, type Context } from "hono";
import { ApiError } from "../errors";
import { dashboardSecurityHeaders } from "./security-headers";
import type { AppEnv } from "./types";

async function serveAsset(c: Context<AppEnv>): Promise<Response> {
  const assets = c.env.ASSETS;
  if (assets === undefined) {
    c.var.logFields.problem = "the ASSETS binding is missing";
    throw new ApiError("not_configured", "The dashboard's files are not deployed with this Worker (wrangler.toml [assets]).");
  }
  const url = new URL(c.req.url);
  const fetched = await assets.fetch(new Request(url, c.req.raw));
  if (fetched.status === 404) throw new ApiError("not_found", `No route for ${c.req.method} ${url.pathname}.`);
  // A copy: a fetched response's headers are immutable, and the security headers and request id are added to them.
  const res = new Response(fetched.body, fetched);
  // Fixed file names: always revalidated (cheap: ETag), so a browser runs the version deployed.
  if (res.ok) res.headers.set("cache-control", "no-cache");
  return res;
}

export const dashboardRoutes = new Hono<AppEnv>();

dashboardRoutes.get("/admin", dashboardSecurityHeaders, (c) => c.redirect("/admin/", 308));
dashboardRoutes.get("/admin/", dashboardSecurityHeaders, serveAsset);
dashboardRoutes.get("/admin/assets/*", dashboardSecurityHeaders, serveAsset);
