/**
 * Builds the dashboard (dashboard/src, Preact + @preact/signals) into the static files the Worker serves at /admin
 * through its ASSETS binding (wrangler.toml [assets]): dashboard/dist/admin/index.html and dashboard/dist/admin/assets/.
 *
 * Why built, not committed: wrangler runs this as its custom build ([build] in wrangler.toml) before every
 * `wrangler dev` and `wrangler deploy`, and vitest.config.ts runs it before the tests, so a fresh clone never serves
 * stale files and no generated file needs a freshness check. esbuild's output is deterministic, and a file is
 * rewritten only when its bytes change (through a temporary file and a rename), so concurrent runs — the tests'
 * build and each `wrangler dev` an end-to-end test starts — never expose a half-written file.
 *
 * Fixed file names (no content hashes): the Worker serves them with `cache-control: no-cache`, so a browser
 * revalidates with the ETag and always runs the deployed version; an admin dashboard loads three small files.
 *
 * The bundle budget (README, "Bundle budget") is enforced here: the build fails when the gzip size of the
 * dashboard's files passes DASHBOARD_GZIP_BUDGET_BYTES. `--report` prints each file's size.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const DASHBOARD = import.meta.dirname;
export const OUT_DIR = path.join(DASHBOARD, "dist");
/** Where /admin/ lives inside the assets directory: asset paths are URL paths. */
const ADMIN_DIR = "admin";
/** The dashboard's own files, gzip -9, all together. */
export const DASHBOARD_GZIP_BUDGET_BYTES = 40 * 1024;

/** The files of the dashboard as { "admin/assets/app.js": bytes, … }. */
async function render(): Promise<Map<string, Buffer>> {
  const result = await esbuild.build({
    entryPoints: { app: path.join(DASHBOARD, "src", "main.tsx"), style: path.join(DASHBOARD, "src", "styles.css") },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022"],
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    outdir: path.join(OUT_DIR, ADMIN_DIR, "assets"),
    entryNames: "[name]",
    write: false,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const files = new Map<string, Buffer>();
  for (const file of result.outputFiles) {
    const name = path.relative(OUT_DIR, file.path).split(path.sep).join("/").replace("assets/style.css", "assets/app.css");
    files.set(name, Buffer.from(file.contents));
  }
  files.set(`${ADMIN_DIR}/index.html`, readFileSync(path.join(DASHBOARD, "index.html")));
  for (const name of readdirSync(path.join(DASHBOARD, "public"))) {
    files.set(`${ADMIN_DIR}/assets/${name}`, readFileSync(path.join(DASHBOARD, "public", name)));
  }
  return files;
}

function listFiles(dir: string, base = dir): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full).split(path.sep).join("/")];
  });
}

/** Write what changed, remove what is no longer built. */
function sync(files: Map<string, Buffer>): number {
  let written = 0;
  for (const [name, bytes] of files) {
    const target = path.join(OUT_DIR, name);
    let current: Buffer | undefined;
    try {
      current = readFileSync(target);
    } catch {
      current = undefined;
    }
    if (current && current.equals(bytes)) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, target);
    written++;
  }
  for (const name of listFiles(OUT_DIR)) {
    if (!files.has(name) && !name.endsWith(".tmp")) rmSync(path.join(OUT_DIR, name), { force: true });
  }
  return written;
}

export interface FileSize {
  name: string;
  bytes: number;
  gzip: number;
}

export function gzipSizes(files: Map<string, Buffer>): FileSize[] {
  return [...files].map(([name, bytes]) => ({ name, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }));
}

/** Build into dashboard/dist; throws when the budget is exceeded. */
export async function buildDashboard(): Promise<{ sizes: FileSize[]; total: number; written: number }> {
  const files = await render();
  const sizes = gzipSizes(files);
  const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
  if (total > DASHBOARD_GZIP_BUDGET_BYTES) {
    throw new Error(`dashboard: ${total} bytes gzip, over its budget of ${DASHBOARD_GZIP_BUDGET_BYTES} (README, "Bundle budget")`);
  }
  const written = sync(files);
  return { sizes, total, written };
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  try {
    const { sizes, total, written } = await buildDashboard();
    if (process.argv.includes("--report")) {
      for (const s of sizes) console.log(`${s.name.padEnd(32)} ${String(s.bytes).padStart(7)} B  ${String(s.gzip).padStart(6)} B gzip`);
    }
    console.log(`dashboard: ${sizes.length} files, ${total} B gzip (budget ${DASHBOARD_GZIP_BUDGET_BYTES}), ${written} written to dashboard/dist`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
