/**
 * The Worker's bindings and raw configuration. The bindings and the names of every var and secret come from
 * wrangler.toml through `wrangler types` (worker-configuration.d.ts, committed; `npm run types` regenerates it and
 * the tests check it is current); this module adds only what the generated types cannot say:
 *
 * - the message type of each queue (wrangler knows a queue, not what we send on it);
 * - that configuration values are raw, possibly missing strings: a declared secret can be unset in local
 *   development (`wrangler dev` only warns), a var can be blank. src/config.ts turns them into a typed, validated
 *   Config, so here they are `ConfigVars`, all optional.
 *
 * The type check also holds wrangler.toml and src/config-vars.ts to the same list of names, so a var or secret
 * declared in one and missing from the other fails `npm run typecheck` with the name in the message.
 */
import type { ConfigVars } from "./config-vars";
import type { ForwardMessage, DeadLetterMessage } from "./queue/messages";

/** What wrangler.toml declares, as `wrangler types` generated it (Cloudflare.Env is the same plus what tests add). */
type DeclaredEnv = WranglerEnv;
type QueueBindings = "FORWARD_QUEUE" | "DEAD_LETTER_QUEUE";
type ResourceBindings = "DB" | "ASSETS" | QueueBindings;

export interface Env extends Omit<DeclaredEnv, QueueBindings | keyof ConfigVars>, ConfigVars {
  FORWARD_QUEUE: Queue<ForwardMessage>;
  DEAD_LETTER_QUEUE: Queue<DeadLetterMessage>;
  /** Optional R2 bucket: when bound, retention archives events here before purging them (docs/operations.md). */
  ARCHIVE?: R2Bucket;
}

/** A type argument that must be `never`: anything else is a compile error naming the offending names. */
type NoneOf<Names extends never> = Names;

/**
 * Compile-time agreement of wrangler.toml and src/config-vars.ts: every name the gateway reads is declared (as a
 * [vars] entry or in [secrets] required), and everything declared besides the resources is read.
 */
export type WranglerTomlMatchesConfigVars = [
  NoneOf<Exclude<keyof ConfigVars, keyof DeclaredEnv>>,
  NoneOf<Exclude<keyof DeclaredEnv, keyof ConfigVars | ResourceBindings>>,
];
