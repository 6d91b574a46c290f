/**
 * The Worker's bindings and raw configuration, exactly as wrangler.toml, `wrangler secret put` and `.dev.vars`
 * provide them. Raw strings only: src/config.ts turns them into a typed, validated Config.
 *
 * Types come from @cloudflare/workers-types (pinned in package.json) rather than `wrangler types`: the generated
 * file depends on whatever `.dev.vars` holds on the machine that ran it, so it drifts between a fresh clone and a
 * developer's checkout; a hand-kept interface next to the zod config schema does not.
 */
import type { ConfigVars } from "./config-vars";
import type { ForwardMessage, DeadLetterMessage } from "./queue/messages";

export interface Env extends ConfigVars {
  DB: D1Database;
  FORWARD_QUEUE: Queue<ForwardMessage>;
  DEAD_LETTER_QUEUE: Queue<DeadLetterMessage>;
  /** Optional R2 bucket: when bound, retention archives events here before purging them (docs/operations.md). */
  ARCHIVE?: R2Bucket;
}

type WorkerEnv = Env;

declare global {
  namespace Cloudflare {
    // Types `env` from "cloudflare:workers" and "cloudflare:test" in tests.
    interface Env extends WorkerEnv {}
  }
}
