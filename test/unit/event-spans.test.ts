/**
 * eventTexts finds each event's exact text in a delivery body. Property: for any JSON text JSON.parse accepts, the
 * slices JSON.parse to the same values as JSON.parse(body).data.events (same count, same order), and it answers
 * undefined exactly when that is not an array. Checked on every real delivery in the fixtures, on hand-written
 * adversarial bodies, and on 3,000 seeded random bodies written as text (odd whitespace, escapes, surrogates,
 * strings full of brackets and quotes, duplicate and escaped keys, deep nesting, numbers JSON cannot round-trip).
 */
import { describe, expect, it } from "vitest";
import { eventTexts } from "../../src/okta/event-spans";
import { fixtureNames, fixtureText } from "../helpers/fixtures";
import { prng } from "../helpers/mutate";

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function check(body: string): void {
  const parsed = JSON.parse(body) as { data?: { events?: unknown } } | null;
  const events = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? parsed.data?.events : undefined;
  const texts = eventTexts(body);
  if (!Array.isArray(events) || parsed?.data === null || Array.isArray(parsed?.data)) {
    // Only an object `data` with an array `events` is a delivery; the route's schema refuses anything else first.
    if (!Array.isArray(events)) expect(texts, body.slice(0, 300)).toBeUndefined();
    return;
  }
  expect(texts, body.slice(0, 300)).toBeDefined();
  // Compared as JSON text: the values may nest thousands deep, past what a recursive deep-equal can walk.
  expect(texts!.length).toBe(events.length);
  texts!.forEach((t, i) => expect(JSON.stringify(JSON.parse(t))).toBe(JSON.stringify(events[i])));
  // Each slice is a piece of the body, untouched.
  for (const t of texts!) expect(body.includes(t)).toBe(true);
}

const ws = (random: Random) => pick(random, ["", "", " ", "\n", "\t", "\r\n  ", "   "]);
const STRINGS = [
  '""',
  '"plain"',
  '"a\\"]}[{,:\\""',
  '"\\\\"',
  '"\\u0064\\u0061\\u0074\\u0061"',
  '"é😀"',
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"\\/\\b\\f\\n\\r\\t"',
  '"[[[{{{"',
];
const NUMBERS = ["0", "-0", "1e400", "-1e-400", "12345678901234567890123", "1.0", "0.5e-3", "-12.5E+2"];
const KEYS = ['"data"', '"events"', '"d\\u0061ta"', '"ev\\u0065nts"', '"uuid"', '"x"', '""', '"da\\"ta"'];

function value(random: Random, depth: number): string {
  const r = random();
  if (depth > 6 || r < 0.35) {
    return pick(random, [() => pick(random, STRINGS), () => pick(random, NUMBERS), () => pick(random, ["true", "false", "null"])])();
  }
  if (r < 0.45) {
    const n = 1 + Math.floor(random() * 40);
    return "[".repeat(n) + "]".repeat(n);
  }
  if (r < 0.7) {
    const n = Math.floor(random() * 4);
    return `[${ws(random)}${Array.from({ length: n }, () => value(random, depth + 1)).join(`${ws(random)},${ws(random)}`)}${ws(random)}]`;
  }
  return object(random, depth + 1);
}

function object(random: Random, depth: number): string {
  const n = Math.floor(random() * 5);
  const members = Array.from({ length: n }, () => `${ws(random)}${pick(random, KEYS)}${ws(random)}:${ws(random)}${value(random, depth)}${ws(random)}`);
  return `{${members.join(",")}${n === 0 ? ws(random) : ""}}`;
}

/** A body likely (not certain) to be delivery-shaped, with duplicates and decoys around the real data.events. */
function body(random: Random): string {
  const events = Array.from({ length: Math.floor(random() * 5) }, () => (random() < 0.8 ? object(random, 1) : value(random, 1)));
  const eventsArray = `[${ws(random)}${events.join(`${ws(random)},${ws(random)}`)}${ws(random)}]`;
  const dataMembers = [`${pick(random, ['"events"', '"ev\\u0065nts"'])}${ws(random)}:${ws(random)}${eventsArray}`];
  if (random() < 0.3) dataMembers.push(`"events":${value(random, 1)}`); // a later duplicate wins
  if (random() < 0.3) dataMembers.unshift(`"events":[0,{"uuid":"decoy"}]`); // an earlier one loses
  if (random() < 0.3) dataMembers.push(`"other":${value(random, 1)}`);
  const data = `{${dataMembers.join(",")}}`;
  const top = [`"eventType":"com.okta.event_hook"`, `${pick(random, ['"data"', '"d\\u0061ta"'])}:${ws(random)}${data}`];
  if (random() < 0.2) top.push(`"data":${value(random, 1)}`);
  if (random() < 0.2) top.unshift(`"data":${data.replace('"events"', '"x"')}`);
  if (random() < 0.3) top.push(`"eventTime":"2026-11-24T10:00:00Z"`);
  return `${ws(random)}{${ws(random)}${top.join(`${ws(random)},${ws(random)}`)}${ws(random)}}${ws(random)}`;
}

describe("eventTexts", () => {
  it("every real event hook delivery in the fixtures", () => {
    const names = fixtureNames(/event-hook\.delivery.*\.json$/);
    expect(names.length).toBeGreaterThan(2);
    for (const name of names) check(fixtureText(name));
  });

  it.each([
    ['{"data":{"events":[]}}'],
    ['{"data":{"events":[{"uuid":"a"},{"uuid":"b"}]}}'],
    ['{"data":{"events":[{"a":"]},{"}]}}'],
    ['{"d\\u0061ta":{"\\u0065vents":[1e400, 12345678901234567890123]}}'],
    ['{"data":{"events":[1]},"data":{"events":[2]}}'],
    ['{"data":{"events":[1]},"data":5}'],
    ['{"data":{"events":[1],"events":"x"}}'],
    ['{"data":[{"events":[1]}]}'],
    ['{"events":[1]}'],
    ["[]"],
    ["null"],
    ['"data"'],
    [' \n {"data" : { "events" : [ {"x" : [ ] } , [ ] , "s" , -0 ] } } \n '],
    [`{"data":{"events":[${"[".repeat(5000)}${"]".repeat(5000)},{"uuid":"after"}]}}`],
  ])("%s", (text) => check(text));

  it("3,000 seeded random bodies", () => {
    const random = prng(424242);
    let deliveries = 0;
    for (let i = 0; i < 3000; i++) {
      const text = body(random);
      check(text);
      const events = (JSON.parse(text) as { data?: { events?: unknown } }).data?.events;
      if (Array.isArray(events) && events.length > 0) deliveries++;
    }
    // The generator mostly produces delivery-shaped bodies with events, so the property was exercised.
    expect(deliveries).toBeGreaterThan(1000);
  });
});
