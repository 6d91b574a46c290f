/**
 * The SQL we hand to people — the `wrangler d1 execute … --command "…"` lines `npm start` prints and the docs show
 * — runs against the schema the migrations build (the same local D1 the tests use). A query that names a column
 * a migration removed would otherwise only fail in a newcomer's terminal.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import startScript from "../../scripts/start.mjs?raw";
import readme from "../../README.md?raw";
import forwardingDoc from "../../docs/forwarding.md?raw";
import oktaSetupDoc from "../../docs/okta-setup.md?raw";
import operationsDoc from "../../docs/operations.md?raw";

const SOURCES: Record<string, string> = {
  "scripts/start.mjs": startScript,
  "README.md": readme,
  "docs/forwarding.md": forwardingDoc,
  "docs/okta-setup.md": oktaSetupDoc,
  "docs/operations.md": operationsDoc,
};

/** Every `d1 execute … --command "<sql>"` in a text. */
function commands(text: string): string[] {
  return [...text.matchAll(/d1 execute [^\n]*?--command "([^"]+)"/g)].map((m) => m[1]!);
}

describe("documented SQL", () => {
  it("npm start prints a query of what was stored", () => {
    expect(commands(startScript)).toHaveLength(1);
  });

  for (const [source, text] of Object.entries(SOURCES)) {
    for (const sql of commands(text)) {
      it(`${source}: ${sql.slice(0, 80)}`, async () => {
        expect(sql.trimStart().toUpperCase().startsWith("SELECT"), "only read-only queries are run here").toBe(true);
        await expect(env.DB.prepare(sql).all()).resolves.toMatchObject({ success: true });
        // `events` is keyed by uuid with no other index (migrations/0010): a query handed to people reaches it by
        // uuid or through event_batches, never by a scan that reads every stored event.
        const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).all<{ detail: string }>();
        const names = ["events", ...[...sql.matchAll(/\bevents\s+(?:AS\s+)?([a-z_]\w*)/gi)].map((m) => m[1]!.toLowerCase())];
        for (const { detail } of plan.results) {
          const scanned = /^SCAN (\w+)/.exec(detail)?.[1]?.toLowerCase();
          expect(scanned !== undefined && names.includes(scanned), `a scan of events: ${detail}`).toBe(false);
        }
      });
    }
  }
});
