/**
 * Every route of /admin/api, as the OpenAPI document describes it: one list per area, in the order the reference
 * page shows them. Adding a route to an admin router means adding its description to that area's list (its file
 * in this folder); test/integration/openapi.test.ts fails while a route registered in the app is missing here, or a
 * description names a route the app does not have (docs/development.md "Describing an admin route").
 */
import type { RouteDescription } from "./describe";
import { deadLetterRouteDescriptions } from "./dead-letters";
import { destinationRouteDescriptions } from "./destinations";
import { eventRouteDescriptions } from "./events";
import { inlineCallRouteDescriptions } from "./inline-calls";
import { referenceRouteDescriptions } from "./reference";
import { replayRouteDescriptions } from "./replays";
import { ruleRouteDescriptions } from "./rules";
import { statsRouteDescriptions } from "./stats";

export const ADMIN_API_TAGS = [
  { name: "Destinations", description: "Where events are forwarded: filters, signing, pause and resume, secret rotation (docs/forwarding.md)." },
  { name: "Events", description: "Stored Okta events: search, detail with Okta's exact payload, and where each went." },
  { name: "Replays", description: "Send stored events again — one, or a filter's — as jobs with progress and cancel; backfill new destinations." },
  { name: "Dead letters", description: "Deliveries that will not be retried on their own: inspect, redrive, acknowledge." },
  { name: "Inline hook rules", description: "Declarative inline hook rules and their lookup tables (docs/inline-hooks.md)." },
  { name: "Inline hook calls", description: "The inline hook audit: what each call decided, by what, and how fast (docs/inline-hooks.md)." },
  { name: "Stats", description: "What the gateway received and where it went, and D1's size against its limit (docs/operations.md)." },
  { name: "Reference", description: "This document and its interactive reference page; no token needed." },
] as const;

export const ADMIN_API_ROUTES: readonly RouteDescription[] = [
  ...destinationRouteDescriptions,
  ...eventRouteDescriptions,
  ...replayRouteDescriptions,
  ...deadLetterRouteDescriptions,
  ...ruleRouteDescriptions,
  ...inlineCallRouteDescriptions,
  ...statsRouteDescriptions,
  ...referenceRouteDescriptions,
];
