/**
 * Plain-text tables and key/value blocks for the CLI's human output: columns padded to their widest cell, long
 * cells cut with "…", missing values shown as "-", the header in bold; colour is applied after padding so widths
 * count what the eye sees. `--json` bypasses all of this.
 */
import type { Colors } from "../colors.ts";

export type Cell = string | number | boolean | null | undefined;

export interface Column<R> {
  header: string;
  value: (row: R) => Cell;
  /** Longest text shown; longer is cut with "…". */
  max?: number;
  /** Colour of a cell by its text (after padding). */
  color?: (text: string) => ((s: string) => string) | undefined;
  align?: "left" | "right";
}

const escaped = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * `text` with C0 and C1 control characters (but tab and line feed) and DEL shown as \u00XX: what the gateway answers
 * may hold what anyone typed into Okta (a failed sign-in's username is its actor), and must not drive the
 * operator's terminal (window titles, cleared screens, hyperlinks). As the tail renderer does (tools/tail/render.ts).
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, escaped);
}

/**
 * `value` as indented JSON with DEL and the C1 controls escaped too (JSON.stringify escapes only C0, and U+009B is a
 * terminal's CSI): the same JSON value, safe to print.
 */
export function jsonText(value: unknown): string {
  return (JSON.stringify(value, null, 2) ?? "null").replace(/[\u007f-\u009f]/g, escaped);
}

export function cellText(value: Cell, max = 80): string {
  const text = value === null || value === undefined || value === "" ? "-" : String(value);
  const oneLine = terminalSafe(text.replace(/[\r\n\t]+/g, " "));
  return oneLine.length > max ? `${oneLine.slice(0, Math.max(1, max - 1))}…` : oneLine;
}

export function table<R>(rows: readonly R[], columns: ReadonlyArray<Column<R>>, c: Colors): string {
  const cells = rows.map((row) => columns.map((col) => cellText(col.value(row), col.max)));
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((r) => r[i]!.length)));
  const last = columns.length - 1;
  // The last column is not padded on the right: no trailing blanks, coloured or not.
  const pad = (text: string, i: number) =>
    columns[i]!.align === "right" ? text.padStart(widths[i]!) : i === last ? text : text.padEnd(widths[i]!);
  const header = columns.map((col, i) => c.bold(pad(col.header, i))).join("  ");
  const lines = cells.map((r) =>
    r
      .map((text, i) => {
        const paint = columns[i]!.color?.(text);
        const padded = pad(text, i);
        return paint ? paint(padded) : padded;
      })
      .join("  "),
  );
  return [header, ...lines].join("\n");
}

/** `label: value` lines, labels aligned. */
export function fields(entries: ReadonlyArray<readonly [string, Cell]>, c: Colors): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${c.dim(`${label}:`.padEnd(width + 1))} ${cellText(value, 400)}`).join("\n");
}

/** An ISO time as the API answers it, shorter: `2026-11-24T10:00:00.123Z` → `2026-11-24 10:00:00Z`. */
export function shortTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}
