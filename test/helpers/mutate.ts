/**
 * Bounded, reproducible mutation of JSON test inputs, for the "no input answers 500" tests: a seeded PRNG
 * (mulberry32) and a mutator that replaces one random node of a value with an odd value, or deletes it.
 */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: readonly unknown[] = [null, true, 0, -1, 1e308, "", "x".repeat(300), [], {}, [null], { uuid: null }, "\u0000", "../../etc", "<script>"];

/** A copy of `value` with one random node replaced by an odd value (or removed: `undefined` drops a key). */
export function mutate(value: unknown, random: () => number): unknown {
  if (value === null || typeof value !== "object" || random() < 0.25) {
    return random() < 0.1 ? undefined : ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
  }
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as object) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
  const key = keys[Math.floor(random() * keys.length)]!;
  (copy as Record<string, unknown>)[key] = mutate((copy as Record<string, unknown>)[key], random);
  return copy;
}
