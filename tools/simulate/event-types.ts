/**
 * The event types an Okta event hook can subscribe to, read from data/event-hook-eligible-event-types.tsv (Okta's
 * catalog, https://developer.okta.com/docs/reference/api/event-types/, types tagged "event-hook-eligible"), and the
 * `--types` selection over them (exact names or `prefix.*`).
 */
import { readFileSync } from "node:fs";

export interface EligibleEventType {
  eventType: string;
  /** The Okta release that introduced it, e.g. "2023.06.0". */
  release: string;
  tags: string[];
  description: string;
}

const DATA_FILE = new URL("./data/event-hook-eligible-event-types.tsv", import.meta.url);

export function parseEventTypes(text: string): EligibleEventType[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const [eventType = "", release = "", tags = "", description = ""] = line.split("\t");
      return { eventType, release, tags: tags.split(",").filter(Boolean), description };
    });
}

let cached: EligibleEventType[] | undefined;

export function eligibleEventTypes(): EligibleEventType[] {
  cached ??= parseEventTypes(readFileSync(DATA_FILE, "utf8"));
  return cached;
}

/**
 * The eligible types matching `patterns` (each an exact type or `prefix.*`); every type when none is given. A pattern
 * that matches no eligible type is an error that names it: Okta would refuse to subscribe a hook to it.
 */
export function selectEventTypes(patterns: readonly string[], all = eligibleEventTypes()): EligibleEventType[] {
  if (patterns.length === 0) return all;
  const selected = new Set<EligibleEventType>();
  for (const pattern of patterns) {
    const matches = pattern.endsWith(".*")
      ? all.filter((t) => t.eventType.startsWith(pattern.slice(0, -1)))
      : all.filter((t) => t.eventType === pattern);
    if (matches.length === 0) {
      throw new Error(`"${pattern}" is not an event-hook-eligible Okta event type (see tools/simulate/data/)`);
    }
    for (const m of matches) selected.add(m);
  }
  return all.filter((t) => selected.has(t));
}
