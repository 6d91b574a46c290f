/**
 * Retention of the inline hook audit log (table inline_call_batches, migrations/0005): rows whose latest call was
 * received before the cutoff, a page at a time, through the (hook_type, last_received_at) index — one range per
 * type, so a page reads the rows it deletes and not the young ones. A row's calls span at most a minute, so a row
 * straddling the cutoff is kept until its latest call is old enough. The step counts rows (each up to 100 calls),
 * as the job's paging expects.
 */
import { INLINE_HOOK_TYPES } from "../okta/inline/common";
import type { RetentionStep } from "./retention";

const TYPES = INLINE_HOOK_TYPES.map((type) => `'${type}'`).join(", ");

export const inlineCallRetention: RetentionStep = {
  name: "inlineCalls",
  async purge(db, cutoff, limit) {
    const result = await db
      .prepare(
        `DELETE FROM inline_call_batches WHERE id IN
           (SELECT id FROM inline_call_batches WHERE hook_type IN (${TYPES}) AND last_received_at < ?1 LIMIT ?2)`,
      )
      .bind(cutoff, limit)
      .run();
    return result.meta.changes ?? 0;
  },
};
