#!/usr/bin/env node
/**
 * `npm run cli -- …`: the admin CLI (./cli.ts, docs/operations.md "Admin CLI") on the real process: stdout,
 * stderr, the environment, files, fetch, and Ctrl-C — the first stops what is in flight (a followed job keeps
 * running in the gateway), a second one exits at once.
 */
import { readFileSync } from "node:fs";
import { runCli } from "./cli.ts";

const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  progress: process.stderr,
  env: process.env,
  readFile: (file) => readFileSync(file, "utf8"),
  signal: interrupt.signal,
});
