/**
 * How large the D1 database is. Every D1 result carries the database's size after the statement as
 * `meta.size_after` (https://developers.cloudflare.com/d1/worker-api/return-object/), so a caller that runs any
 * statement anyway (the /healthz ping, the stats overview) learns it for free.
 */

/** D1's size after this result's statement, in bytes, or null when the result does not say. */
export function sizeAfter(result: D1Result<unknown> | undefined): number | null {
  const size = (result?.meta as { size_after?: unknown } | undefined)?.size_after;
  return typeof size === "number" && Number.isFinite(size) && size >= 0 ? size : null;
}
