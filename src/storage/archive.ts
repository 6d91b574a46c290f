/**
 * The R2 archive of purged events (binding ARCHIVE, optional; docs/operations.md "Archive"): before retention
 * deletes a page of events, it writes them here, one gzip NDJSON object per UTC day of arrival and event type, and
 * reads every object back to compare it byte for byte with what it wrote. Any failure throws ArchiveError and the
 * page is not purged: an event leaves D1 only once R2 holds it.
 *
 * Key:  events/YYYY/MM/DD/<eventType>/<first id>-<last id>-<digest>.ndjson.gz
 *       (day of `received_at`, UTC; the gateway's event ids of the object's first and last event, zero-padded to 12
 *       digits so a listing sorts by arrival; the first 12 hex digits of the object's SHA-256, so an object is never
 *       overwritten by a different one — a page written again after a failed purge may hold fewer events)
 * Line: {"id":…,"uuid":"…","batchId":…,"receivedAt":"<ISO>","oktaOrg":"…","eventHookId":"…","envelopeEventId":"…",
 *        "event":<Okta's exact text of the event>}
 *       `event` is the event's bytes exactly as Okta sent them, spliced in unparsed (they are valid JSON: ingest
 *       checked). Okta sends compact JSON; should an event's text contain a line break (a pretty-printed delivery),
 *       it goes as the JSON string `eventText` instead, so that every line stays one line. A stored payload that
 *       cannot be decoded (a corrupt row) goes as `storedPayloadBase64` (its batch's stored bytes) with `payloadOffset` and
 *       `payloadBytes` (where the event is in them), rather than be lost.
 *
 * An event can be in two objects only if a purge failed after its archive was written (the next run writes it
 * again): readers that need exactly-once dedupe on `uuid`.
 */
import { toBase64 } from "../crypto/base64";
import type { PurgeCandidate } from "./retention";

export const ARCHIVE_FORMAT = "okta-hooks-edge.archive.v1";
/** R2 writes in flight at once. */
const PARALLEL_WRITES = 4;

export class ArchiveError extends Error {
  override readonly name = "ArchiveError";
  constructor(
    readonly key: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`archive ${key}: ${reason}`, { cause });
  }
}

export interface ArchivedObject {
  key: string;
  events: number;
  /** Compressed size. */
  bytes: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The object key of one group: day of arrival (UTC), event type, id range, content digest (hex). */
export function archiveKey(receivedAt: number, eventType: string, firstId: number, lastId: number, digestHex: string): string {
  const day = new Date(receivedAt);
  const date = `${day.getUTCFullYear()}/${pad(day.getUTCMonth() + 1, 2)}/${pad(day.getUTCDate(), 2)}`;
  return `events/${date}/${encodeURIComponent(eventType)}/${pad(firstId, 12)}-${pad(lastId, 12)}-${digestHex.slice(0, 12)}.ndjson.gz`;
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** One event's NDJSON line (no trailing newline). */
export function archiveLine(event: PurgeCandidate): string {
  const known = JSON.stringify({
    id: event.id,
    uuid: event.uuid,
    batchId: event.batchId,
    receivedAt: new Date(event.receivedAt).toISOString(),
    oktaOrg: event.oktaOrg,
    eventHookId: event.eventHookId,
    envelopeEventId: event.envelopeEventId,
  });
  if (!("text" in event.content)) {
    const { storedPayload, offset, bytes } = event.content;
    return `${known.slice(0, -1)},"storedPayloadBase64":${JSON.stringify(toBase64(storedPayload))},"payloadOffset":${offset},"payloadBytes":${bytes}}`;
  }
  const text = event.content.text;
  if (/[\r\n]/.test(text)) return `${known.slice(0, -1)},"eventText":${JSON.stringify(text)}}`;
  return `${known.slice(0, -1)},"event":${text}}`;
}

/** Candidates grouped by object (UTC day of arrival and type), each group in id order. */
export function archiveGroups(events: readonly PurgeCandidate[]): PurgeCandidate[][] {
  const byDayAndType = new Map<string, PurgeCandidate[]>();
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    const group = `${new Date(event.receivedAt).toISOString().slice(0, 10)} ${event.eventType}`;
    const list = byDayAndType.get(group) ?? [];
    list.push(event);
    byDayAndType.set(group, list);
  }
  return [...byDayAndType.values()];
}

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function writeObject(bucket: R2Bucket, events: readonly PurgeCandidate[]): Promise<ArchivedObject> {
  const body = await gzip(events.map((e) => `${archiveLine(e)}\n`).join(""));
  const sha256 = await crypto.subtle.digest("SHA-256", body);
  const first = events[0]!;
  const key = archiveKey(first.receivedAt, first.eventType, first.id, events[events.length - 1]!.id, hex(sha256));
  try {
    // R2 refuses the upload if the bytes it received do not hash to sha256.
    await bucket.put(key, body, {
      sha256,
      httpMetadata: { contentType: "application/gzip" },
      customMetadata: { format: ARCHIVE_FORMAT, events: String(events.length) },
    });
  } catch (error) {
    throw new ArchiveError(key, "write failed", error);
  }
  let stored: R2ObjectBody | null;
  try {
    stored = await bucket.get(key);
  } catch (error) {
    throw new ArchiveError(key, "read-back failed", error);
  }
  if (stored === null) throw new ArchiveError(key, "not found after writing");
  if (!sameBytes(new Uint8Array(await stored.arrayBuffer()), body)) throw new ArchiveError(key, "read back different bytes");
  return { key, events: events.length, bytes: body.byteLength };
}

/** Write and verify the archive of these events; resolves once every object is in R2, throws ArchiveError otherwise. */
export async function archiveEvents(bucket: R2Bucket, events: readonly PurgeCandidate[]): Promise<ArchivedObject[]> {
  const groups = archiveGroups(events);
  const written: ArchivedObject[] = [];
  for (let i = 0; i < groups.length; i += PARALLEL_WRITES) {
    const slice = groups.slice(i, i + PARALLEL_WRITES);
    written.push(...(await Promise.all(slice.map((group) => writeObject(bucket, group)))));
  }
  return written;
}
