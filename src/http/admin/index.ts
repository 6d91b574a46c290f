/**
 * The admin REST API under /admin/api, behind the admin bearer token. Each area mounts its own router here.
 */
import { Hono } from "hono";
import type { AppEnv } from "../types";
import { requireAdmin } from "./auth";
import { deadLetterRoutes } from "./dead-letters";
import { destinationRoutes } from "./destinations";
import { eventRoutes } from "./events";
import { inlineCallRoutes } from "./inline-calls";
import { replayRoutes } from "./replays";
import { ruleRoutes } from "./rules";
import { statsRoutes } from "./stats";

export const adminApiRoutes = new Hono<AppEnv>();

adminApiRoutes.use(requireAdmin);
adminApiRoutes.route("/destinations", destinationRoutes);
adminApiRoutes.route("/events", eventRoutes);
adminApiRoutes.route("/rules", ruleRoutes);
adminApiRoutes.route("/inline-calls", inlineCallRoutes);
adminApiRoutes.route("/stats", statsRoutes);
adminApiRoutes.route("/replays", replayRoutes);
adminApiRoutes.route("/dead-letters", deadLetterRoutes);
