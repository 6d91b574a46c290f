/**
 * The inline hook handler examples of docs/inline-hooks.md compile against the real handler contract and builders: each
 * `// src/handlers/<file>.ts` block is written over a copy of src/ (the index block registers all six), and the
 * copy is type-checked with the project's tsconfig. An example that drifts from the API fails here.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

function handlerBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(/```ts\n(\/\/ src\/handlers\/([\w-]+\.ts)[^\n]*\n[\s\S]*?)```/g)) {
    blocks.set(match[2]!, match[1]!);
  }
  return blocks;
}

it("every handler example in docs/inline-hooks.md type-checks, all six registered at once", () => {
  const blocks = handlerBlocks(readFileSync(path.join(ROOT, "docs", "inline-hooks.md"), "utf8"));
  expect([...blocks.keys()].sort()).toEqual([
    "index.ts",
    "password-import.ts",
    "registration.ts",
    "saml.ts",
    "telephony.ts",
    "token.ts",
    "user-import.ts",
  ]);
  // Inside the repository, so node_modules (types) resolve as for the real sources.
  const dir = mkdtempSync(path.join(ROOT, ".handler-examples-check-"));
  try {
    cpSync(path.join(ROOT, "src"), path.join(dir, "src"), { recursive: true });
    cpSync(path.join(ROOT, "package.json"), path.join(dir, "package.json")); // /healthz reads the version
    for (const [file, code] of blocks) writeFileSync(path.join(dir, "src", "handlers", file), code);
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ extends: "../tsconfig.json", include: ["src/**/*.ts"] }),
    );
    let output = "";
    try {
      execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", path.join(dir, "tsconfig.json")], {
        cwd: ROOT,
        encoding: "utf8",
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
