#!/usr/bin/env node
// `okta-hooks-edge` (package.json "bin"): the admin CLI, ./main.ts. Node 22.6 and later run TypeScript by stripping
// its types; on an older Node (a system Node 20), this runs the CLI with the Node 22 the project installs
// (node_modules/.bin/node), passing the arguments, the terminal and the exit code through.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, "main.ts");

if (process.features.typescript) {
  await import(pathToFileURL(main).href);
} else {
  const node22 = path.join(here, "..", "..", "node_modules", ".bin", "node");
  if (!existsSync(node22)) {
    console.error(`okta-hooks-edge needs Node >= 22.12 (this is ${process.version}): run \`npm install\` in the repository, or use Node 22.`);
    process.exit(2);
  }
  const child = spawn(node22, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C reaches the child too (same terminal); it says what happened and exits 130.
  process.on("SIGINT", () => {});
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 1)));
}
