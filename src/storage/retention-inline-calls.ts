/**
 * Retention of the inline hook audit log as it is stored today (table inline_hook_calls, migrations/0003): rows
 * received before the cutoff, oldest first, through the inline_hook_calls_received index. A store of inline call
 * records that replaces this table brings its own RetentionStep with the same name and contract.
 */
import type { RetentionStep } from "./retention";

export const inlineCallRetention: RetentionStep = {
  name: "inlineCalls",
  async purge(db, cutoff, limit) {
    const result = await db
      .prepare(
        `DELETE FROM inline_hook_calls WHERE id IN
           (SELECT id FROM inline_hook_calls WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)`,
      )
      .bind(cutoff, limit)
      .run();
    return result.meta.changes ?? 0;
  },
};
