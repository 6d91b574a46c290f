/**
 * /admin/api/destinations (docs/forwarding.md): parse the request, call the use case (src/usecases/destinations.ts),
 * answer. Create and rotate answer the new signing secret this once, with `cache-control: no-store`.
 * POST /{id}/test-event sends one synthetic `gateway.test` event now and answers the attempt (src/usecases/test-event.ts).
 */
import { Hono, type Context } from "hono";
import * as z from "zod";
import { allRows } from "../../storage/d1";
import { lastFailuresOf, lastFailuresStatement, readLastFailures } from "../../storage/destination-last-failure";
import { listDestinationsStatement, toDestination, type DestinationRow } from "../../storage/destinations";
import { createDestinationSchema, rotateSecretSchema, updateDestinationSchema } from "../../usecases/destination-input";
import {
  createDestination,
  findDestination,
  removeDestination,
  rotateSecret,
  updateDestination,
  type DestinationDeps,
} from "../../usecases/destinations";
import { sendTestEvent } from "../../usecases/test-event";
import type { AppEnv } from "../types";
import { readValidatedJson } from "../validated-json";
import { destinationView } from "./destination-view";

/** Most destinations one list answers with (a gateway has a handful; the bound keeps the response small). */
export const LIST_LIMIT = 500;

/** POST /{id}/test-event: the body is optional and, when sent, an empty object (nothing to choose yet). */
export const testEventRequestSchema = z.strictObject({});

export const destinationRoutes = new Hono<AppEnv>();

/** Whether the request carries a body (a POST whose body is optional). */
const hasBody = (c: Context<AppEnv>) => c.req.header("content-type") !== undefined || (c.req.header("content-length") ?? "0") !== "0";

const deps = (c: Context<AppEnv>): DestinationDeps => ({ env: c.env, config: c.var.config, now: Date.now(), requestId: c.var.requestId });

destinationRoutes.post("/", async (c) => {
  const input = await readValidatedJson(c.req.raw, createDestinationSchema);
  const d = deps(c);
  const { destination, secret } = await createDestination(d, input);
  c.var.logFields.destinationId = destination.id;
  return c.json({ ...destinationView(destination, d.now), secret }, 201, {
    location: `/admin/api/destinations/${destination.id}`,
    "cache-control": "no-store",
  });
});

destinationRoutes.get("/", async (c) => {
  const now = Date.now();
  // One round trip: the list and every destination's last failure (a few rows read each).
  const [listed, failures] = await c.env.DB.batch<Record<string, unknown>>([
    listDestinationsStatement(c.env.DB, LIST_LIMIT),
    lastFailuresStatement(c.env.DB),
  ]);
  const lastFailures = lastFailuresOf(failures!);
  const destinations = allRows<DestinationRow>(listed).map(toDestination);
  return c.json({ destinations: destinations.map((d) => destinationView(d, now, lastFailures.get(d.id) ?? null)) });
});

destinationRoutes.get("/:id", async (c) => {
  const destination = await findDestination(c.env.DB, c.req.param("id"));
  const lastFailure = (await readLastFailures(c.env.DB, [destination.id])).get(destination.id) ?? null;
  return c.json(destinationView(destination, Date.now(), lastFailure));
});

destinationRoutes.patch("/:id", async (c) => {
  // Unknown ids are a 404 before the body is judged.
  await findDestination(c.env.DB, c.req.param("id"));
  const input = await readValidatedJson(c.req.raw, updateDestinationSchema);
  const d = deps(c);
  const result = await updateDestination(d, c.req.param("id"), input);
  c.var.logFields.destinationId = result.destination.id;
  if (result.stateChange) c.var.logFields.stateChange = result.stateChange;
  if (result.resumed) {
    c.var.logFields.resumed = result.resumed.resumed;
    c.var.logFields.resumeContinues = result.resumed.more;
  }
  const lastFailure = (await readLastFailures(c.env.DB, [result.destination.id])).get(result.destination.id) ?? null;
  return c.json(destinationView(result.destination, d.now, lastFailure));
});

destinationRoutes.delete("/:id", async (c) => {
  const id = c.req.param("id");
  await removeDestination(deps(c), id);
  c.var.logFields.destinationId = id;
  return c.body(null, 204);
});

destinationRoutes.post("/:id/rotate-secret", async (c) => {
  await findDestination(c.env.DB, c.req.param("id"));
  const input = hasBody(c) ? await readValidatedJson(c.req.raw, rotateSecretSchema) : rotateSecretSchema.parse({});
  const rotated = await rotateSecret(deps(c), c.req.param("id"), input);
  c.var.logFields.destinationId = rotated.id;
  c.var.logFields.gracePeriodSeconds = input.gracePeriodSeconds;
  return c.json(
    {
      id: rotated.id,
      secret: rotated.secret,
      previousSecretExpiresAt: rotated.previousExpiresAt === null ? null : new Date(rotated.previousExpiresAt).toISOString(),
    },
    200,
    { "cache-control": "no-store" },
  );
});

destinationRoutes.post("/:id/test-event", async (c) => {
  await findDestination(c.env.DB, c.req.param("id"));
  if (hasBody(c)) await readValidatedJson(c.req.raw, testEventRequestSchema);
  const result = await sendTestEvent({ env: c.env, config: c.var.config, now: Date.now() }, c.req.param("id"));
  c.var.logFields.destinationId = result.destinationId;
  c.var.logFields.testEventUuid = result.eventUuid;
  c.var.logFields.testOutcome = result.outcome;
  if (result.status !== null) c.var.logFields.testStatus = result.status;
  return c.json(result, 200, { "cache-control": "no-store" });
});
