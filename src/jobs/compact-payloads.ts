/**
 * Payload compaction (cron): the ingest stores each batch's event texts as plain UTF-8, because compressing them in
 * the request would cost Okta's POST more CPU than everything else it does (docs/storage.md); this job compresses
 * them minutes later (src/storage/payload-codec.ts: DEFLATE with a preset dictionary). It walks event_payloads in
 * batch-id order from a high-water mark kept in gateway_meta, a page at a time, each page one transaction that
 * replaces the plain payloads and moves the mark, within a time budget per run: the next run continues where this
 * one stopped. Reads of a payload work in either form, so nothing waits for it.
 */
import type { Env } from "../env";
import { describeError, log } from "../log";
import { allRows, firstRow } from "../storage/d1";
import {
  compactedThroughStatement,
  payloadsAfterStatement,
  replacePayloadStatement,
  setCompactedThroughStatement,
} from "../storage/events";
import { encodePayload, isPlain, storedBytes, type StoredPayload } from "../storage/payload-codec";

/** Payload rows read per page (one read, one write transaction). */
export const COMPACTION_PAGE = 50;
/**
 * Stored payload bytes a page reads at most before its last row (so at most this plus one batch): D1 hands a BLOB
 * to the Worker as an array of numbers, several bytes of memory per byte stored, within a Worker's 128 MB.
 */
export const COMPACTION_PAGE_BYTES = 4_000_000;
/** Wall-clock budget per run: the cron runs every 5 minutes, and one run must never hold the next one up. */
export const COMPACTION_BUDGET_MS = 20_000;

export interface CompactionResult {
  pages: number;
  compacted: number;
  bytesBefore: number;
  bytesAfter: number;
  through: number;
  more: boolean;
}

export async function compactPayloads(
  env: Env,
  budgetMs = COMPACTION_BUDGET_MS,
  page = COMPACTION_PAGE,
  pageBytes = COMPACTION_PAGE_BYTES,
): Promise<CompactionResult> {
  const started = Date.now();
  const result: CompactionResult = { pages: 0, compacted: 0, bytesBefore: 0, bytesAfter: 0, through: 0, more: false };
  try {
    result.through = firstRow<{ value: number }>(await compactedThroughStatement(env.DB).all())?.value ?? 0;
    while (Date.now() - started < budgetMs) {
      const rows = allRows<{ batch_id: number; data: StoredPayload; page_rows: number }>(await payloadsAfterStatement(env.DB, result.through, page, pageBytes).all());
      if (rows.length === 0) break;
      const writes: D1PreparedStatement[] = [];
      for (const row of rows) {
        if (!isPlain(row.data)) continue;
        const plain = storedBytes(row.data);
        const packed = encodePayload(plain);
        if (packed.byteLength >= plain.byteLength) continue;
        writes.push(replacePayloadStatement(env.DB, row.batch_id, packed));
        result.compacted++;
        result.bytesBefore += plain.byteLength;
        result.bytesAfter += packed.byteLength;
      }
      const through = rows.at(-1)!.batch_id;
      await env.DB.batch([...writes, setCompactedThroughStatement(env.DB, through)]);
      result.through = through;
      result.pages++;
      // A page cut short by its byte bound has more rows after it.
      result.more = rows.length === page || rows.length < (rows[0]?.page_rows ?? 0);
      if (!result.more) break;
    }
    if (result.compacted > 0 || result.more) log("info", "payload compaction", { ...result });
    return result;
  } catch (error) {
    // Nothing is lost: plain payloads read as well as compressed ones, and the next run starts from the mark.
    log("error", "payload compaction failed", { error: describeError(error), through: result.through });
    throw error;
  }
}

