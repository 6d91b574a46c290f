#!/usr/bin/env node
/**
 * The layering rule of src/ (docs/architecture.md): a module imports only from its own layer or a lower one.
 * Lower layers know nothing of the ones above, so pure domain code stays testable without D1, HTTP or queues.
 *
 * A small script rather than dependency-cruiser: the rule is one table, the imports are plain relative ES module
 * specifiers, and the check runs in a few milliseconds with no dependency to keep up to date.
 *
 * Exit 1 with every offending import listed; `--print` shows the layer of each module.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = path.join(ROOT, "src");

/** Layers, lowest first. Each entry: a name and the src-relative paths (files or folders) it holds. */
export const LAYERS = [
  ["base", ["crypto", "log.ts", "errors.ts", "validation.ts", "config-vars.ts"]],
  // Pure: zod schemas and Okta's contract. queue/messages.ts is the queue's message contract, shared by every producer
  // and the consumer, and typed into the bindings (env.ts), so it sits this low.
  ["domain", ["okta", "forwarding", "queue/messages.ts"]],
  ["configuration", ["config.ts", "env.ts"]],
  ["storage", ["storage"]],
  ["delivery", ["queue"]],
  ["extensions", ["handlers"]],
  ["use cases", ["usecases"]],
  ["entry points", ["http", "jobs"]],
  ["application", ["app.ts"]],
  ["worker", ["index.ts"]],
];

function layerOf(relative) {
  // The most specific match wins (queue/messages.ts before queue).
  let best;
  LAYERS.forEach(([name, paths], index) => {
    for (const p of paths) {
      if (relative === p || relative.startsWith(`${p}/`)) {
        if (!best || p.length > best.match.length) best = { index, name, match: p };
      }
    }
  });
  return best;
}

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return entry.endsWith(".ts") ? [full] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/g;

const problems = [];
const print = process.argv.includes("--print");
for (const file of sourceFiles(SRC)) {
  const relative = path.relative(SRC, file).split(path.sep).join("/");
  const own = layerOf(relative);
  if (!own) {
    problems.push(`${relative}: in no layer; add it to LAYERS in scripts/check-layers.mjs and docs/architecture.md`);
    continue;
  }
  if (print) console.log(`${own.name.padEnd(14)} ${relative}`);
  for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const target = path.relative(SRC, path.resolve(path.dirname(file), match[1])).split(path.sep).join("/");
    if (target.startsWith("..")) continue; // package.json and the like, outside src/
    const resolved = target.endsWith(".ts") || target.endsWith(".json") ? target : `${target}.ts`;
    const theirs = layerOf(resolved) ?? layerOf(`${target}/index.ts`);
    if (!theirs) {
      problems.push(`${relative} imports ${match[1]}, which is in no layer`);
    } else if (theirs.index > own.index) {
      problems.push(`${relative} (${own.name}) imports ${resolved} (${theirs.name}), a layer above it`);
    }
  }
}

if (problems.length > 0) {
  console.error(`Layering rule broken (docs/architecture.md):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
if (!print) console.log("layers: every import points to the same or a lower layer");
