/**
 * Strict input schemas of the destination use cases (what the admin API accepts); the view it answers with is
 * src/http/admin/destination-view.ts.
 */
import * as z from "zod";
import { destinationConditionsSchema, eventTypeFilterSchema } from "../okta/routing";
import { hasLoneSurrogate } from "../validation";

/** Default attempt timeout; Okta itself gives receivers 3 s, Svix 15 s (cloud), Hook0 15 s. */
export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 30_000;
/** Rotation overlap: default 24 h and at most 7 days, as Svix. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 86_400;
export const MAX_GRACE_PERIOD_SECONDS = 7 * 86_400;

/** Headers the gateway sets itself; a destination's auth header may not replace them. */
const RESERVED_HEADERS = new Set([
  "accept", "connection", "content-length", "content-type", "host", "idempotency-key", "transfer-encoding",
  "user-agent", "webhook-id", "webhook-signature", "webhook-timestamp",
]);

/** Stored as UTF-8 and read back: a lone surrogate would come back as something else than what was accepted. */
const UNICODE_TEXT = "must be Unicode text (it holds a lone UTF-16 surrogate)";

const headerNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(100)
  .regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, "must be an HTTP header name")
  .refine((name) => !RESERVED_HEADERS.has(name), "is set by the gateway and cannot be used as the auth header");

const oktaAuthSchema = z.strictObject({
  header: headerNameSchema.default("authorization"),
  value: z
    .string()
    .min(1)
    .max(2048)
    .regex(/^[^\r\n\0]*$/, "must be a single line")
    .refine((value) => !hasLoneSurrogate(value), UNICODE_TEXT),
});

const nameSchema = z.string().trim().min(1).max(100).refine((name) => !hasLoneSurrogate(name), UNICODE_TEXT);
const urlSchema = z.string().min(1).max(2048);
const timeoutSchema = z.number().int().min(1000).max(MAX_TIMEOUT_MS);
const formatSchema = z.enum(["standard", "okta"]);

export const createDestinationSchema = z.strictObject({
  name: nameSchema,
  url: urlSchema,
  eventTypes: eventTypeFilterSchema.default(["*"]),
  conditions: destinationConditionsSchema.default({}),
  format: formatSchema.default("standard"),
  oktaAuth: oktaAuthSchema.optional(),
  timeoutMs: timeoutSchema.default(DEFAULT_TIMEOUT_MS),
  state: z.enum(["active", "paused"]).default("active"),
});
export type CreateDestinationInput = z.infer<typeof createDestinationSchema>;

export const updateDestinationSchema = z
  .strictObject({
    name: nameSchema.optional(),
    url: urlSchema.optional(),
    eventTypes: eventTypeFilterSchema.optional(),
    conditions: destinationConditionsSchema.optional(),
    format: formatSchema.optional(),
    oktaAuth: oktaAuthSchema.optional(),
    timeoutMs: timeoutSchema.optional(),
    state: z.enum(["active", "paused", "disabled"]).optional(),
  })
  .refine((input) => Object.keys(input).length > 0, "at least one field to change is required");
export type UpdateDestinationInput = z.infer<typeof updateDestinationSchema>;

export const rotateSecretSchema = z.strictObject({
  gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_PERIOD_SECONDS).default(DEFAULT_GRACE_PERIOD_SECONDS),
});

/** Destination ids as newDestinationId makes them; anything else is a 404 without a query. */
export const DESTINATION_ID = /^dst_[0-9a-f]{20}$/;
