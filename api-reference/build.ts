/**
 * Builds the admin API's reference page (GET /admin/api/docs, src/http/admin/openapi/reference-routes.ts) into the
 * Worker's static assets: dashboard/dist/api-reference/, beside the dashboard's own files (dashboard/build.ts owns
 * dashboard/dist/admin/ and leaves this folder alone).
 *
 * The page is Swagger UI's prebuilt bundle from the swagger-ui-dist package, with its license texts, plus this
 * folder's index.html and init.js. It is copied, not bundled: the Worker serves it as files, so its 1.7 MB never
 * counts against the Worker's script. Source-map comments are dropped (the maps are not shipped).
 *
 * Like the dashboard's build, wrangler runs it before `wrangler dev` and `wrangler deploy` ([build] in
 * wrangler.toml) and vitest.config.ts before the tests; a file is rewritten only when its bytes change (through a
 * temporary file and a rename), so concurrent runs never expose a half-written file. `--report` prints each file.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";

const HERE = import.meta.dirname;
export const OUT_DIR = path.join(HERE, "..", "dashboard", "dist", "api-reference");
const SWAGGER_UI = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** Served name → where it comes from. */
const FILES: Record<string, string> = {
  "index.html": path.join(HERE, "index.html"),
  "init.js": path.join(HERE, "init.js"),
  "swagger-ui-bundle.js": path.join(SWAGGER_UI, "swagger-ui-bundle.js"),
  "swagger-ui.css": path.join(SWAGGER_UI, "swagger-ui.css"),
  "favicon-32x32.png": path.join(SWAGGER_UI, "favicon-32x32.png"),
  "swagger-ui-bundle.js.LICENSE.txt": path.join(SWAGGER_UI, "swagger-ui-bundle.js.LICENSE.txt"),
  "LICENSE.txt": path.join(SWAGGER_UI, "LICENSE"),
  "NOTICE.txt": path.join(SWAGGER_UI, "NOTICE"),
};

const SOURCE_MAP_COMMENT = /\n?\/[/*]# sourceMappingURL=\S+?(?: ?\*\/)?\s*$/;

function render(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [name, source] of Object.entries(FILES)) {
    let bytes = readFileSync(source);
    if (/\.(?:js|css)$/.test(name)) bytes = Buffer.from(bytes.toString("utf8").replace(SOURCE_MAP_COMMENT, "\n"));
    files.set(name, bytes);
  }
  return files;
}

export interface BuiltFile {
  name: string;
  bytes: number;
  gzip: number;
}

/** Build into dashboard/dist/api-reference; what is there and no longer built is removed. */
export function buildApiReference(): { files: BuiltFile[]; written: number } {
  const files = render();
  mkdirSync(OUT_DIR, { recursive: true });
  let written = 0;
  for (const [name, bytes] of files) {
    const target = path.join(OUT_DIR, name);
    let current: Buffer | undefined;
    try {
      current = readFileSync(target);
    } catch {
      current = undefined;
    }
    if (current?.equals(bytes)) continue;
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, target);
    written++;
  }
  for (const name of readdirSync(OUT_DIR)) {
    if (!files.has(name) && !name.endsWith(".tmp")) rmSync(path.join(OUT_DIR, name), { force: true });
  }
  return {
    files: [...files].map(([name, bytes]) => ({ name, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length })),
    written,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  try {
    const { files, written } = buildApiReference();
    if (process.argv.includes("--report")) {
      for (const f of files) console.log(`${f.name.padEnd(34)} ${String(f.bytes).padStart(8)} B  ${String(f.gzip).padStart(7)} B gzip`);
    }
    const gzip = files.reduce((sum, f) => sum + f.gzip, 0);
    console.log(`api reference: ${files.length} files, ${gzip} B gzip, ${written} written to dashboard/dist/api-reference`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
