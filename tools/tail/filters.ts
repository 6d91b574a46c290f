/**
 * `--route` and `--status` for the tail renderer. A route is a path or its prefix (`/hooks/inline` matches every
 * inline hook) or a glob where `*` stands for anything (`/admin/api/*`); a status is a code (`503`), a class (`4xx`)
 * or `error` (5xx, or an invocation the runtime ended with an exception or a limit). Several values of one option:
 * any may match. Queue batches and cron runs have neither, so either filter hides them.
 */
import type { Entry } from "./entries.ts";

export type EntryFilter = (entry: Entry) => boolean;

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

export function routeFilter(patterns: readonly string[]): EntryFilter {
  const matchers = patterns.map((p) => {
    if (p.includes("*")) {
      const re = globToRegExp(p);
      return (route: string) => re.test(route);
    }
    return (route: string) => route === p || route.startsWith(p.endsWith("/") ? p : `${p}/`);
  });
  return (entry) => entry.kind === "request" && typeof entry.fields.route === "string" && matchers.some((m) => m(entry.fields.route as string));
}

/** Parses one `--status` value, throwing with the accepted forms when it is none of them. */
export function statusMatcher(value: string): (entry: Entry) => boolean {
  const v = value.trim().toLowerCase();
  if (v === "error") {
    return (e) => (typeof e.fields.status === "number" && e.fields.status >= 500) || !["ok", "unknown"].includes(e.outcome);
  }
  const klass = /^([1-5])xx$/.exec(v);
  if (klass) {
    const base = Number(klass[1]) * 100;
    return (e) => typeof e.fields.status === "number" && e.fields.status >= base && e.fields.status < base + 100;
  }
  if (/^[1-5]\d\d$/.test(v)) {
    const code = Number(v);
    return (e) => e.fields.status === code;
  }
  throw new Error(`--status ${value}: give a code (204), a class (4xx) or "error"`);
}

export function statusFilter(values: readonly string[]): EntryFilter {
  const matchers = values.map(statusMatcher);
  return (entry) => entry.kind === "request" && matchers.some((m) => m(entry));
}

export function combine(filters: readonly EntryFilter[]): EntryFilter {
  return (entry) => filters.every((f) => f(entry));
}
