/**
 * /admin/api/destinations (docs/forwarding.md): parse the request, call the use case (src/usecases/destinations.ts),
 * answer. Create and rotate answer the new signing secret this once, with `cache-control: no-store`.
 */
import { Hono, type Context } from "hono";
import { listDestinations } from "../../storage/destinations";
import { createDestinationSchema, rotateSecretSchema, updateDestinationSchema } from "../../usecases/destination-input";
import {
  createDestination,
  findDestination,
  removeDestination,
  rotateSecret,
  updateDestination,
  type DestinationDeps,
} from "../../usecases/destinations";
import type { AppEnv } from "../types";
import { readValidatedJson } from "../validated-json";
import { destinationView } from "./destination-view";

/** Most destinations one list answers with (a gateway has a handful; the bound keeps the response small). */
export const LIST_LIMIT = 500;

export const destinationRoutes = new Hono<AppEnv>();

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
  const destinations = await listDestinations(c.env.DB, LIST_LIMIT);
  return c.json({ destinations: destinations.map((d) => destinationView(d, now)) });
});

destinationRoutes.get("/:id", async (c) => {
  const destination = await findDestination(c.env.DB, c.req.param("id"));
  return c.json(destinationView(destination, Date.now()));
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
  return c.json(destinationView(result.destination, d.now));
});

destinationRoutes.delete("/:id", async (c) => {
  const id = c.req.param("id");
  await removeDestination(deps(c), id);
  c.var.logFields.destinationId = id;
  return c.body(null, 204);
});

destinationRoutes.post("/:id/rotate-secret", async (c) => {
  await findDestination(c.env.DB, c.req.param("id"));
  const hasBody = c.req.header("content-type") !== undefined || (c.req.header("content-length") ?? "0") !== "0";
  const input = hasBody ? await readValidatedJson(c.req.raw, rotateSecretSchema) : rotateSecretSchema.parse({});
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
