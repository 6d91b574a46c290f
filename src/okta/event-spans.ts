/**
 * Where each event of a delivery starts and ends in the body Okta sent, so the gateway can store and forward each
 * event as Okta's exact bytes. Re-serialising the parsed value would change them: `1e400` becomes `null`, a 23-digit
 * integer loses digits, `\u00e9` becomes `é`, key order and spacing are lost.
 *
 * Input: a body that JSON.parse has already accepted (the caller parses first, strictly), so the scanner only has to
 * find boundaries, never judge syntax. It walks the text once, without recursion (a value nested thousands of levels
 * deep costs no stack), and picks members the way JSON.parse does: keys compared after unescaping (`"d\u0061ta"`
 * is `data`), and when a key repeats, the last one wins. It returns undefined when the body is not shaped like a
 * delivery (`data.events` missing or not an array); the caller's schema reports that case.
 *
 * Pure.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * `i` at a string's opening quote; returns the index just past its closing quote. Jumps from quote to quote with
 * indexOf (native, and most of a delivery is string content): a quote closes the string unless an odd number of
 * backslashes precedes it.
 */
function skipString(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** `i` at the first character of a value; returns the index just past it. Iterative: depth costs no stack. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return skipString(text, i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number or a literal: it runs to the next delimiter.
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isWhitespace(c)) break;
      i++;
    }
    return i;
  }
  // Outside strings, only brackets and quotes matter; a string is skipped whole.
  let depth = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

interface Span {
  start: number;
  end: number;
}

/** The value of the last member named `name` of the object starting at `i`, or undefined. */
function lastMember(text: string, i: number, name: string): Span | undefined {
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  let found: Span | undefined;
  i = skipWhitespace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipString(text, i);
    const key = text.slice(i, keyEnd);
    // Unescape only when needed: JSON.parse of a key is exact, and most keys hold no backslash.
    const matches = key.includes("\\") ? JSON.parse(key) === name : key.slice(1, -1) === name;
    i = skipWhitespace(text, keyEnd) + 1; // past the colon
    const start = skipWhitespace(text, i);
    const end = skipValue(text, start);
    if (matches) found = { start, end };
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipWhitespace(text, i + 1);
  }
  return found;
}

/** The elements of the array starting at `i`. */
function elements(text: string, i: number): Span[] {
  const spans: Span[] = [];
  i = skipWhitespace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) return spans;
  while (i < text.length) {
    const start = i;
    const end = skipValue(text, start);
    spans.push({ start, end });
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipWhitespace(text, i + 1);
  }
  return spans;
}

/**
 * The exact text of each element of `data.events` in `body` (a JSON text JSON.parse accepted), in order; undefined
 * when the body has no `data.events` array.
 */
export function eventTexts(body: string): string[] | undefined {
  const root = skipWhitespace(body, 0);
  const data = lastMember(body, root, "data");
  if (data === undefined) return undefined;
  const events = lastMember(body, data.start, "events");
  if (events === undefined || body.charCodeAt(events.start) !== OPEN_BRACKET) return undefined;
  return elements(body, events.start).map(({ start, end }) => body.slice(start, end));
}
