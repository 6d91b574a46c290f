#!/usr/bin/env node
/**
 * `npm run tail -- [--env …] [--route …] [--status …] [--format …] [--file …]`: the gateway's `wrangler tail`, one
 * coloured line per request (tools/tail/, docs/operations.md). Also reads a saved session or a pipe.
 */
import { main } from "../tools/tail/cli.ts";

// `npm run tail | head` closes the pipe early: stop quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
