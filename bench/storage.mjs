// Storage figures of `npm run bench`: D1 bytes per stored event, read from the local D1's SQLite file itself, as the
// growth between two points divided by the events stored in between — so the schema's fixed pages do not count.
// Two views: the database's pages (what D1 bills as its size: free pages included) over cycles of "store, then the
// cron compacts" (so pages freed by compaction are reused as they would be in a running gateway), and SQLite's
// dbstat per table and index (the pages holding live rows, free space inside them included).
import { readdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { E2E_EVENT_SECRET } from "../test/e2e/gateway.ts";
import { deliveryEnvelope } from "./synthetic-events.mjs";

function sqliteFile(persistTo) {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (!file) throw new Error(`no D1 database file under ${dir}`);
  return path.join(dir, file);
}

/** Bytes of every table and index (pages used, free space inside them included), and the event count. */
export function snapshot(persistTo) {
  const db = new DatabaseSync(sqliteFile(persistTo), { readOnly: true });
  try {
    const tables = Object.fromEntries(db.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name").all().map((r) => [r.name, Number(r.bytes)]));
    const events = Number(db.prepare("SELECT count(*) AS n FROM events").get().n);
    const payloadBytes = Number(db.prepare("SELECT coalesce(sum(length(data)), 0) AS n FROM event_payloads").get().n);
    const pageSize = Number(db.prepare("PRAGMA page_size").get().page_size);
    const pages = Number(db.prepare("PRAGMA page_count").get().page_count);
    const freePages = Number(db.prepare("PRAGMA freelist_count").get().freelist_count);
    return { tables, events, payloadBytes, fileBytes: pages * pageSize, freeBytes: freePages * pageSize };
  } finally {
    db.close();
  }
}

/** Per event, between two snapshots: bytes per table/index, their total, and the mean stored payload. */
export function growth(before, after) {
  const events = after.events - before.events;
  const perTable = {};
  let total = 0;
  for (const [name, bytes] of Object.entries(after.tables)) {
    const delta = bytes - (before.tables[name] ?? 0);
    if (delta === 0) continue;
    perTable[name] = delta / events;
    total += delta;
  }
  return {
    events,
    fileBytesPerEvent: (after.fileBytes - before.fileBytes) / events,
    bytesPerEvent: total / events,
    payloadBytesPerEvent: (after.payloadBytes - before.payloadBytes) / events,
    freeBytesAfter: after.freeBytes,
    perTable,
  };
}

/** Store `events` (objects) in deliveries of `size`, two POSTs at a time. */
export async function storeAll(gw, events, size = 20) {
  const headers = { "content-type": "application/json", authorization: E2E_EVENT_SECRET };
  const deliveries = [];
  for (let i = 0; i < events.length; i += size) deliveries.push(events.slice(i, i + size));
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < deliveries.length) {
        const res = await fetch(`${gw.baseUrl}/hooks/events`, { method: "POST", headers, body: deliveryEnvelope(deliveries[next++]) });
        if (res.status !== 204) throw new Error(`event POST answered ${res.status}: ${await res.text()}`);
      }
    }),
  );
}
