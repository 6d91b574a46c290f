/**
 * Event routing (docs/forwarding.md): does a stored Okta event go to a destination?
 *
 * A destination has an event-type filter — a list of patterns, each an exact type (`user.session.start`), a
 * prefix (`user.lifecycle.*` matches `user.lifecycle.create` and `user.lifecycle.delete.initiated`), or `*` for
 * every type — and optional conditions, all of which must hold: the outcome result is one of `outcomeResults`,
 * the actor id one of `actorIds`, some target's type one of `targetTypes` (Okta: "search for a given type rather
 * than the array location", https://developer.okta.com/docs/concepts/event-hooks/).
 *
 * Pure domain code: schemas of the filter beside the matcher.
 */
import * as z from "zod";
import type { LogEvent } from "./event-hook";

const EVENT_TYPE_PATTERN = /^(?:\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\.\*)?)$/;

export const eventTypePatternSchema = z
  .string()
  .max(300)
  .regex(EVENT_TYPE_PATTERN, 'must be an event type ("user.session.start"), a prefix ("user.lifecycle.*") or "*"');

export const eventTypeFilterSchema = z.array(eventTypePatternSchema).min(1).max(300);

const valueList = z.array(z.string().min(1).max(200)).min(1).max(100);

export const destinationConditionsSchema = z.strictObject({
  outcomeResults: valueList.optional(),
  actorIds: valueList.optional(),
  targetTypes: valueList.optional(),
});
export type DestinationConditions = z.infer<typeof destinationConditionsSchema>;

export interface DestinationFilter {
  eventTypes: readonly string[];
  conditions: DestinationConditions;
}

/** Whether `eventType` matches one of `patterns`. */
export function matchesEventType(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((pattern) => {
    if (pattern === "*") return true;
    if (pattern.endsWith(".*")) return eventType.startsWith(pattern.slice(0, -1));
    return pattern === eventType;
  });
}

/** The fields of a LogEvent that routing reads. */
export type RoutableEvent = Pick<LogEvent, "eventType" | "actor" | "outcome" | "target">;

/** Whether `event` goes to a destination with `filter`. */
export function routesTo(event: RoutableEvent, filter: DestinationFilter): boolean {
  if (!matchesEventType(filter.eventTypes, event.eventType)) return false;
  const { outcomeResults, actorIds, targetTypes } = filter.conditions;
  if (outcomeResults && !outcomeResults.includes(event.outcome?.result ?? "")) return false;
  if (actorIds && !actorIds.includes(event.actor?.id ?? "")) return false;
  if (targetTypes) {
    const types = (event.target ?? []).map((t) => t?.type ?? "");
    if (!types.some((type) => targetTypes.includes(type))) return false;
  }
  return true;
}
