/** The OpenAPI description of /admin/api/destinations (src/http/admin/destinations.ts; docs/forwarding.md "Admin API"). */
import * as z from "zod";
import { destinationConditionsSchema } from "../../../okta/routing";
import { createDestinationSchema, rotateSecretSchema, updateDestinationSchema } from "../../../usecases/destination-input";
import type { destinationView } from "../destination-view";
import { LIST_LIMIT, testEventRequestSchema } from "../destinations";
import { count, destinationIdParam, isoTime } from "./common";
import type { Assert, RouteDescription, Same } from "./describe";

export const destination = z
  .object({
    id: z.string().describe("`dst_` and 20 hex digits."),
    name: z.string(),
    url: z.string(),
    eventTypes: z.array(z.string()).describe('Exact types, prefixes ending in `.*`, or `["*"]`.'),
    conditions: destinationConditionsSchema,
    format: z.enum(["standard", "okta"]).describe("`standard`: Standard Webhooks; `okta`: Okta's own envelope and auth header."),
    oktaAuth: z
      .object({ header: z.string(), valueSet: z.boolean().describe("The value itself is never shown.") })
      .nullable()
      .describe("For format `okta`: the auth header the receiver checks."),
    timeoutMs: count,
    state: z.enum(["active", "paused", "disabled"]),
    consecutiveFailures: count,
    disabledReason: z.string().nullable(),
    lastFailure: z
      .object({
        at: isoTime.nullable(),
        status: z.number().int().nullable().describe("HTTP status of the failed attempt; null: no response."),
        error: z.string().nullable(),
        delivery: z.enum(["retrying", "dead"]).describe("Whether that failure left its delivery retrying or dead."),
      })
      .nullable()
      .describe("The newest dead letter, or the newest still-retrying delivery's last attempt; null: none."),
    previousSecretExpiresAt: isoTime.nullable().describe("While a rotated-out secret still signs (as a second signature)."),
    createdAt: isoTime.nullable(),
    updatedAt: isoTime.nullable(),
  })
  .meta({ id: "Destination" });
export type DestinationDescribed = Assert<Same<z.output<typeof destination>, ReturnType<typeof destinationView>>>;

const signingSecret = z.string().describe("The Standard Webhooks signing secret (`whsec_…`): shown in this answer only.");

const id = { id: { description: "The destination's id.", schema: destinationIdParam } };
const secretHeaders = { "cache-control": "no-store: the answer holds a secret." };

export const destinationRouteDescriptions: RouteDescription[] = [
  {
    method: "post",
    path: "/admin/api/destinations",
    operationId: "createDestination",
    tag: "Destinations",
    summary: "Create a destination",
    description: "Answers the destination with its signing secret, shown this once. The URL must be https and public (docs/forwarding.md \"URL guard\").",
    body: { schema: createDestinationSchema.meta({ id: "DestinationCreate" }) },
    responses: {
      201: {
        description: "Created.",
        schema: destination.extend({ secret: signingSecret }).meta({ id: "NewDestination" }),
        headers: { location: "The destination's URL.", ...secretHeaders },
      },
    },
    errors: ["not_configured"],
    errorNotes: { not_configured: "SECRETS_ENCRYPTION_KEY is not set: the secret cannot be stored." },
  },
  {
    method: "get",
    path: "/admin/api/destinations",
    operationId: "listDestinations",
    tag: "Destinations",
    summary: "List destinations",
    description: `Up to ${LIST_LIMIT}, oldest first.`,
    responses: { 200: { description: "The destinations.", schema: z.object({ destinations: z.array(destination) }) } },
  },
  {
    method: "get",
    path: "/admin/api/destinations/:id",
    operationId: "getDestination",
    tag: "Destinations",
    summary: "Get a destination",
    params: id,
    responses: { 200: { description: "The destination.", schema: destination } },
    errors: ["not_found"],
  },
  {
    method: "patch",
    path: "/admin/api/destinations/:id",
    operationId: "updateDestination",
    tag: "Destinations",
    summary: "Change, pause or resume a destination",
    description:
      '`{"state":"paused"}` pauses (deliveries wait), `{"state":"active"}` resumes or re-enables it and sends what waited.',
    params: id,
    body: { schema: updateDestinationSchema.meta({ id: "DestinationUpdate" }) },
    responses: { 200: { description: "The changed destination.", schema: destination } },
    errors: ["not_found", "not_configured"],
    errorNotes: { not_configured: "A new oktaAuth value without SECRETS_ENCRYPTION_KEY." },
  },
  {
    method: "delete",
    path: "/admin/api/destinations/:id",
    operationId: "deleteDestination",
    tag: "Destinations",
    summary: "Delete a destination",
    description: "With its deliveries, attempts and dead letters.",
    params: id,
    responses: { 204: { description: "Deleted." } },
    errors: ["not_found"],
  },
  {
    method: "post",
    path: "/admin/api/destinations/:id/rotate-secret",
    operationId: "rotateDestinationSecret",
    tag: "Destinations",
    summary: "Rotate a destination's signing secret",
    description: "The previous secret keeps signing (a second signature) for the grace period. The body is optional.",
    params: id,
    body: { schema: rotateSecretSchema.meta({ id: "SecretRotation" }), optional: true },
    responses: {
      200: {
        description: "The new secret, shown this once.",
        schema: z.object({ id: z.string(), secret: signingSecret, previousSecretExpiresAt: isoTime.nullable() }).meta({ id: "RotatedSecret" }),
        headers: secretHeaders,
      },
    },
    errors: ["not_found", "conflict", "not_configured"],
    errorNotes: {
      conflict: "Rotated by another request at the same time.",
      not_configured: "SECRETS_ENCRYPTION_KEY is not set.",
    },
  },
  {
    method: "post",
    path: "/admin/api/destinations/:id/test-event",
    operationId: "sendDestinationTestEvent",
    tag: "Destinations",
    summary: "Send a test event to a destination now",
    description:
      "One synthetic `gateway.test` event (LogEvent-shaped, marked as a test), signed and formatted like a real delivery, sent now through the same attempt code as forwarding — also to a paused or disabled destination. Nothing is recorded: no event, delivery, attempt or dead letter, and no failure counted. The body is optional (`{}`).",
    params: id,
    body: { schema: testEventRequestSchema.meta({ id: "TestEventRequest" }), optional: true },
    responses: {
      200: {
        description: "The attempt's outcome.",
        schema: z
          .object({
            destinationId: z.string(),
            eventUuid: z.string(),
            eventType: z.literal("gateway.test"),
            webhookId: z.string(),
            outcome: z.enum(["delivered", "retry", "dead"]).describe("What forwarding would make of the answer."),
            status: z.number().int().nullable().describe("The receiver's HTTP status; null: no response (timeout, network, URL refused)."),
            latencyMs: z.number().int(),
            error: z.string().nullable(),
            attemptedAt: isoTime,
          })
          .meta({ id: "TestEventResult" }),
      },
    },
    errors: ["not_found"],
  },
];
