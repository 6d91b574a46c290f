/**
 * Security headers of every response the Worker answers (hono's secureHeaders: nosniff, HSTS, frame and referrer
 * policies, same-origin resource policy), and the two Content-Security-Policies:
 *
 * - API_CSP, on everything but the dashboard's own files: JSON for machines (Okta, the admin API, uptime checks)
 *   never needs to load anything, so `default-src 'none'`, and no page may frame it.
 * - DASHBOARD_CSP, on /admin and its files: scripts, styles, images and API calls from this origin only, no inline
 *   script or style, no eval, no plugin, no frame, no other origin at run time (every asset ships with the Worker),
 *   and Trusted Types required so no string can become HTML or script through a DOM sink.
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
