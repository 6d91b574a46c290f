/**
 * Security headers of every response the Worker answers (hono's secureHeaders: nosniff, HSTS, frame and referrer
 * policies, same-origin resource policy), and the two Content-Security-Policies:
 *
 * - API_CSP, on everything but the dashboard's own files: JSON for machines (Okta, the admin API, uptime checks)
 *   never needs to load anything, so `default-src 'none'`, and no page may frame it.
 * - DASHBOARD_CSP, on /admin and its files: scripts, styles, images and API calls from this origin only, no inline
 *   script or style, no eval, no plugin, no frame, no other origin at run time (every asset ships with the Worker),
 *   and Trusted Types required so no string can become HTML or script through a DOM sink.
 * - API_REFERENCE_CSP, on the admin API's reference page (/admin/api/docs, Swagger UI) and its files: the same,
 *   except that images may also be `data:` URLs (Swagger UI's icons) and Trusted Types are not required (Swagger
 *   UI renders the document's Markdown through DOMPurify into innerHTML, which Trusted Types would refuse).
 *
 * See https://developer.mozilla.org/docs/Web/HTTP/Guides/CSP and https://hono.dev/docs/middleware/builtin/secure-headers.
 */
import { secureHeaders } from "hono/secure-headers";

const NONE = ["'none'"];
const SELF = ["'self'"];

export const API_CSP = {
  defaultSrc: NONE,
  baseUri: NONE,
  formAction: NONE,
  frameAncestors: NONE,
};

export const DASHBOARD_CSP = {
  defaultSrc: NONE,
  scriptSrc: SELF,
  styleSrc: SELF,
  imgSrc: SELF,
  connectSrc: SELF,
  manifestSrc: SELF,
  baseUri: NONE,
  formAction: NONE,
  frameAncestors: NONE,
  objectSrc: NONE,
  requireTrustedTypesFor: ["'script'"],
  trustedTypes: NONE,
};

export const API_REFERENCE_CSP = {
  defaultSrc: NONE,
  scriptSrc: SELF,
  styleSrc: SELF,
  imgSrc: [...SELF, "data:"],
  connectSrc: SELF,
  baseUri: NONE,
  formAction: NONE,
  frameAncestors: NONE,
  objectSrc: NONE,
};

const common = {
  // Okta and API clients never look at these; a browser that opens an API URL gets no referrer leak and no sniffing.
  referrerPolicy: "no-referrer",
  xFrameOptions: "DENY",
  // The dashboard uses none of these features.
  permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [], usb: [] },
};

/** Every response: the API policy, unless a route (the dashboard) already set its own. */
export const defaultSecurityHeaders = secureHeaders({ ...common, contentSecurityPolicy: API_CSP, overwrite: false });

/** The dashboard's files. */
export const dashboardSecurityHeaders = secureHeaders({ ...common, contentSecurityPolicy: DASHBOARD_CSP });

/** The admin API's reference page and its files. */
export const apiReferenceSecurityHeaders = secureHeaders({ ...common, contentSecurityPolicy: API_REFERENCE_CSP });
