/**
 * Reads `wrangler tail --format json` output: one JSON object per Worker invocation, pretty-printed over many
 * lines (wrangler writes `JSON.stringify(record, null, 4)`), one after another. Also takes one object per line
 * (JSON Lines) and skips any other text between them (a banner, a blank line): a record starts with `{` at the
 * start of a line. The scanner tracks strings and escapes, so braces inside log messages do not confuse it, and
 * parses each object as soon as it closes, so a live tail renders as it arrives.
 */

export type ParsedRecord = { ok: true; value: unknown } | { ok: false; error: string; text: string };

/** Objects larger than this are reported and skipped rather than buffered without end. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

export class RecordScanner {
  private buffer = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  /** How far `buffer` has been scanned. */
  private scanned = 0;
  /** Whether only blanks have come since the last line break (outside records). */
  private lineStart = true;

  /** Feed more text; returns every object completed by it. */
  push(text: string): ParsedRecord[] {
    this.buffer += text;
    const out: ParsedRecord[] = [];
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (this.depth === 0) {
        // A record starts with "{" at the start of a line (wrangler's, and JSON Lines); other text is skipped.
        if (ch === "{" && this.lineStart) {
          this.start = i;
          this.depth = 1;
        } else if (ch === "\n") this.lineStart = true;
        else if (ch !== " " && ch !== "\t" && ch !== "\r") this.lineStart = false;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === "\\") this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === "{" || ch === "[") this.depth++;
      else if (ch === "}" || ch === "]") {
        this.depth--;
        if (this.depth === 0) {
          const json = this.buffer.slice(this.start, i + 1);
          try {
            out.push({ ok: true, value: JSON.parse(json) });
          } catch (error) {
            out.push({ ok: false, error: (error as Error).message, text: json.slice(0, 200) });
          }
          this.buffer = this.buffer.slice(i + 1);
          i = -1;
          this.start = -1;
          this.lineStart = false;
        }
      }
    }
    if (this.depth === 0) {
      this.buffer = "";
      this.scanned = 0;
    } else {
      // Keep the open object only; drop what came before it.
      if (this.start > 0) this.buffer = this.buffer.slice(this.start);
      this.start = 0;
      this.scanned = this.buffer.length;
      if (this.buffer.length > MAX_RECORD_CHARS) {
        out.push({ ok: false, error: `a record longer than ${MAX_RECORD_CHARS} characters was skipped`, text: this.buffer.slice(0, 200) });
        this.reset();
      }
    }
    return out;
  }

  /** Whatever is left when the input ends: an object that never closed. */
  end(): ParsedRecord[] {
    const rest = this.depth > 0 ? this.buffer : "";
    this.reset();
    return rest.trim() === "" ? [] : [{ ok: false, error: "the input ended inside a record", text: rest.slice(0, 200) }];
  }

  private reset(): void {
    this.buffer = "";
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.start = -1;
    this.scanned = 0;
    this.lineStart = true;
  }
}

/** Every record of a complete text. */
export function parseRecords(text: string): ParsedRecord[] {
  const scanner = new RecordScanner();
  return [...scanner.push(text), ...scanner.end()];
}
