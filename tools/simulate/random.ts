/**
 * A seeded random source for the simulator, so a run can be repeated exactly (`--seed`): what it sends, and so
 * what the gateway stores, depends on the seed alone. Not for anything secret — secrets come from the gateway's
 * configuration, never from here.
 */

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A version 4 UUID built from this source (Okta's event `uuid` and envelope `eventId` are v4 UUIDs). */
  uuid(): string;
  /** An Okta object id: a 3-character prefix (`00u` user, `00g` group, `0oa` app…) and 17 base-62 characters. */
  oktaId(prefix: string): string;
  /** `length` characters of [A-Za-z0-9]. */
  token(length: number): string;
}

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** mulberry32: small, fast, and good enough to vary test data. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const token = (length: number) => Array.from({ length }, () => BASE62[int(0, 61)]).join("");
  return {
    next,
    int,
    pick: <T>(items: readonly T[]) => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[int(0, items.length - 1)]!;
    },
    chance: (p) => next() < p,
    uuid: () => {
      const hex = Array.from({ length: 32 }, () => int(0, 15).toString(16));
      hex[12] = "4";
      hex[16] = (8 + int(0, 3)).toString(16);
      const h = hex.join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    oktaId: (prefix) => `${prefix}${token(20 - prefix.length)}`,
    token,
  };
}

/** A seed for a run that was given none: different every run, printed in the report so it can be repeated. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
