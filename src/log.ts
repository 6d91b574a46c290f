/**
 * Structured logging: one JSON object per line, which `wrangler tail` and Workers Logs show as fields.
 *
 * Callers pass fields they chose on purpose; nothing here serialises a request, a header set or a body, so a
 * secret can only reach a log line if a caller puts it there by name. Don't.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** The message of an unknown thrown value, for log lines (not for responses). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
