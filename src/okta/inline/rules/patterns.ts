/**
 * Admin-written patterns (registration.attribute-pattern rules) run on text that anonymous registrants type. A
 * backtracking engine (JavaScript's RegExp) can take exponential or high polynomial time on some pattern and input,
 * synchronously, where no deadline can interrupt it: one registration could stall the isolate for every request it
 * serves. So patterns run on RE2JS (https://github.com/le0pard/re2js), a pure-JavaScript port of RE2, whose matching
 * time grows linearly with the input whatever the pattern. The price is RE2's syntax: no backreferences and no
 * lookaround (https://github.com/google/re2/wiki/Syntax); a pattern RE2 cannot compile is refused when the rule is
 * written, with RE2's reason.
 *
 * Pure, apart from a bounded cache of compiled patterns (compiling is the expensive part; rules are few).
 */
import { RE2JS } from "re2js";

/** Longest pattern a rule may hold. */
export const MAX_PATTERN_LENGTH = 500;
/**
 * Longest text a pattern is tested against. Matching is linear, so this bounds the work per rule rather than
 * protecting against a blow-up; a longer value is never a legitimate profile attribute, and it is never let through:
 * a rule whose attribute is longer than this denies, whatever its effect.
 */
export const MAX_PATTERN_INPUT_LENGTH = 64 * 1024;

const MAX_CACHED = 512;
const cache = new Map<string, RE2JS>();

function compile(pattern: string, ignoreCase: boolean): RE2JS {
  const key = `${ignoreCase ? "i" : "-"}${pattern}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = RE2JS.compile(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** Why RE2 cannot compile `pattern`, or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    // RE2JS's messages name the offending part, e.g. "invalid or unsupported Perl syntax: `(?=`".
    return error instanceof Error ? error.message.replace(/^error parsing regexp: /, "") : "cannot be compiled";
  }
}

/**
 * Does `text` contain a match of `pattern` (anchors `^`/`$` as written, like RegExp.prototype.test)? A pattern that
 * does not compile (only possible for a rule written before this check) matches nothing.
 */
export function patternFinds(pattern: string, ignoreCase: boolean, text: string): boolean {
  let compiled: RE2JS;
  try {
    compiled = compile(pattern, ignoreCase);
  } catch {
    return false;
  }
  return compiled.test(text);
}
