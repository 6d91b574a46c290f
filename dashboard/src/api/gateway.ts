/**
 * Typed calls of every endpoint the dashboard uses, one function each. The paths and shapes are the admin API's
 * (README "Routes", docs/forwarding.md, docs/inline-hooks.md); types are in ./types.ts.
 */
import { call, query } from "./client";
import type {
  CreatedDestination,
  DeadLetterPage,
  DeliveryStats,
  Destination,
  DestinationInput,
  EventDeliveries,
  EventDetail,
  EventPage,
  EventSearch,
  EventStats,
  Health,
  InlineCallPage,
  InlineCallSearch,
  InlineHookType,
  InlineStats,
  LookupPage,
  LookupTables,
  ReplayDryRun,
  ReplayJob,
  RotatedSecret,
  Rule,
  RuleInput,
  StatsOverview,
  TestEventResult,
} from "./types";

const enc = encodeURIComponent;

// ---- health ----
export const getHealth = (token?: string) => call<Health>("/healthz", token === undefined ? {} : { token });

// ---- destinations ----
export const listDestinations = async () => (await call<{ destinations: Destination[] }>("/admin/api/destinations")).destinations;
export const getDestination = (id: string) => call<Destination>(`/admin/api/destinations/${enc(id)}`);
export const createDestination = (input: DestinationInput) => call<CreatedDestination>("/admin/api/destinations", { method: "POST", body: input });
export const updateDestination = (id: string, change: Partial<DestinationInput>) =>
  call<Destination>(`/admin/api/destinations/${enc(id)}`, { method: "PATCH", body: change });
export const deleteDestination = (id: string) => call<void>(`/admin/api/destinations/${enc(id)}`, { method: "DELETE" });
export const rotateDestinationSecret = (id: string, gracePeriodSeconds: number) =>
  call<RotatedSecret>(`/admin/api/destinations/${enc(id)}/rotate-secret`, { method: "POST", body: { gracePeriodSeconds } });
export const sendTestEvent = (id: string) => call<TestEventResult>(`/admin/api/destinations/${enc(id)}/test-event`, { method: "POST" });

// ---- inline hook rules and lookup tables ----
export const listRules = async (type?: InlineHookType) => (await call<{ rules: Rule[] }>(`/admin/api/rules${query({ type })}`)).rules;
export const getRule = (id: string) => call<Rule>(`/admin/api/rules/${enc(id)}`);
export const createRule = (input: RuleInput) => call<Rule>("/admin/api/rules", { method: "POST", body: input });
export const replaceRule = (id: string, input: RuleInput) => call<Rule>(`/admin/api/rules/${enc(id)}`, { method: "PUT", body: input });
export const patchRule = (id: string, change: { enabled?: boolean; priority?: number }) => call<Rule>(`/admin/api/rules/${enc(id)}`, { method: "PATCH", body: change });
export const deleteRule = (id: string) => call<void>(`/admin/api/rules/${enc(id)}`, { method: "DELETE" });
export const listLookupTables = (after?: string) => call<LookupTables>(`/admin/api/rules/lookup-tables${query({ after })}`);
export const listLookupEntries = (table: string, after?: string) =>
  call<LookupPage>(`/admin/api/rules/lookup-tables/${enc(table)}${query({ after })}`);
export const putLookupEntry = (table: string, key: string, value: unknown) =>
  call<unknown>(`/admin/api/rules/lookup-tables/${enc(table)}/entries/${enc(key)}`, { method: "PUT", body: { value } });
export const deleteLookupEntry = (table: string, key: string) =>
  call<void>(`/admin/api/rules/lookup-tables/${enc(table)}/entries/${enc(key)}`, { method: "DELETE" });

// ---- events ----
export const getEventDeliveries = (uuid: string) => call<EventDeliveries>(`/admin/api/events/${enc(uuid)}/deliveries`);
/** Operations API: a 404 means the gateway does not have it yet. */
export const searchEvents = (search: EventSearch, cursor?: string, limit = 50) =>
  call<EventPage>(`/admin/api/events${query({ ...search, cursor, limit })}`);
export const getEvent = (uuid: string) => call<EventDetail>(`/admin/api/events/${enc(uuid)}`);
export const startReplay = (eventUuid: string, destinationId?: string) =>
  call<ReplayJob>("/admin/api/replays", { method: "POST", body: { eventUuid, ...(destinationId && { destinationId }) } });
/** A filter replay: dry run first (the counts), then the job. */
export const replayFilter = <D extends boolean>(filter: EventSearch, destinationId: string | undefined, dryRun: D) =>
  call<D extends true ? ReplayDryRun : ReplayJob>("/admin/api/replays", { method: "POST", body: { filter, dryRun, ...(destinationId && { destinationId }) } });
export const getReplay = (id: string) => call<ReplayJob>(`/admin/api/replays/${enc(id)}`);
export const cancelReplay = (id: string) => call<ReplayJob>(`/admin/api/replays/${enc(id)}/cancel`, { method: "POST" });

// ---- dead letters (operations API) ----
const letter = (destinationId: string, uuid: string) => `/admin/api/dead-letters/${enc(destinationId)}/${enc(uuid)}`;
export const listDeadLetters = (destinationId?: string, cursor?: string) => call<DeadLetterPage>(`/admin/api/dead-letters${query({ destinationId, cursor, limit: 50 })}`);
export const redriveDeadLetter = (destinationId: string, uuid: string) => call<unknown>(`${letter(destinationId, uuid)}/redrive`, { method: "POST" });
export const deleteDeadLetter = (destinationId: string, uuid: string) => call<void>(letter(destinationId, uuid), { method: "DELETE" });
export const redriveAll = (destinationId: string) => call<ReplayJob>("/admin/api/dead-letters/redrive", { method: "POST", body: { destinationId } });

// ---- stats (operations API) ----
export const getStats = () => call<StatsOverview>("/admin/api/stats");
export const getEventStats = (bucket: "hour" | "day", since: string) => call<EventStats>(`/admin/api/stats/events${query({ bucket, since })}`);
export const getDeliveryStats = () => call<DeliveryStats>("/admin/api/stats/deliveries");
/** Inline hook decisions and latency per type, the last 24 hours (a 404: a gateway without it). */
export const getInlineStats = () => call<InlineStats>("/admin/api/stats/inline");

// ---- inline hook calls (operations API) ----
export const searchInlineCalls = (search: InlineCallSearch, cursor?: string, limit = 50) =>
  call<InlineCallPage>(`/admin/api/inline-calls${query({ ...search, cursor, limit })}`);
