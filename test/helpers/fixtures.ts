/**
 * The Okta examples (test/fixtures/okta, copied from shared/okta/examples with SOURCES.md) as raw text, byte for
 * byte, loaded by Vite at build time: workerd has no file system.
 */
const raw = import.meta.glob<string>("../fixtures/okta/**/*.{json,http}", {
  eager: true,
  query: "?raw",
  import: "default",
});

/** Raw text of a fixture by its path below test/fixtures/okta, e.g. "captured/event-hook.delivery.user-lifecycle-create.json". */
export function fixtureText(name: string): string {
  const text = raw[`../fixtures/okta/${name}`];
  if (text === undefined) throw new Error(`No fixture ${name}`);
  return text;
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** Fixture names (relative paths) matching a pattern. */
export function fixtureNames(pattern: RegExp): string[] {
  return Object.keys(raw)
    .map((k) => k.replace("../fixtures/okta/", ""))
    .filter((k) => pattern.test(k))
    .sort();
}
