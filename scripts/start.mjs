#!/usr/bin/env node
// `npm start`: the gateway on this machine, from a fresh clone, in one command.
//
// 1. installs dependencies when node_modules is missing or older than package-lock.json;
// 2. writes .dev.vars with development secrets when it is missing, and prints them; adds a generated
//    SECRETS_ENCRYPTION_KEY to an existing .dev.vars that lacks one (older setups keep working);
// 3. applies the D1 migrations to the local database;
// 4. runs `wrangler dev` on 127.0.0.1 (local D1 and Queues), triggers the cron on its schedule (wrangler dev
//    does not), and once /healthz answers prints the URL and ready-to-paste curl commands.
//
// Runs on the system Node (20 is fine); wrangler itself runs on the Node 22 that npm installs into
// node_modules/.bin. Ctrl-C stops everything.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "node_modules", ".bin");
const port = Number(process.env.PORT ?? 8787);
const baseUrl = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_UPDATE_NOTIFIER: "1",
};

function step(message) {
  console.log(`\x1b[36m▸\x1b[0m ${message}`);
}

function runOrExit(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

// 1. Dependencies.
const lock = path.join(root, "package-lock.json");
const marker = path.join(root, "node_modules", ".package-lock.json");
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  step("Installing dependencies (npm install)…");
  runOrExit("npm", ["install", "--no-audit", "--no-fund"]);
}

// 2. Development secrets.
const devVars = path.join(root, ".dev.vars");
if (!existsSync(devVars)) {
  const secret = (prefix) => `${prefix}-${randomBytes(18).toString("base64url")}`;
  const values = {
    EVENT_HOOK_SECRETS: secret("dev-event"),
    INLINE_HOOK_SECRETS: secret("dev-inline"),
    ADMIN_TOKEN: secret("dev-admin"),
    // Seals destination secrets in the local D1 (AES-256: base64 of 32 random bytes).
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    // Lets destinations point at http://127.0.0.1 receivers while developing. Never set this in production.
    ALLOW_INSECURE_DESTINATIONS: "true",
  };
  const text =
    "# Development values written by `npm start` because this file was missing. Not for production:\n" +
    "# there, set secrets with `wrangler secret put NAME`.\n" +
    Object.entries(values).map(([k, v]) => `${k}=${v}`).join("\n") +
    "\n";
  writeFileSync(devVars, text, { mode: 0o600 });
  step("Wrote .dev.vars with development secrets:");
  for (const [k, v] of Object.entries(values)) console.log(`    ${k}=${v}`);
} else if (!/^SECRETS_ENCRYPTION_KEY=/m.test(readFileSync(devVars, "utf8"))) {
  // A .dev.vars from before destination secrets were sealed: without a key, destinations cannot be created.
  const existing = readFileSync(devVars, "utf8");
  const key = randomBytes(32).toString("base64");
  appendFileSync(
    devVars,
    `${existing.endsWith("\n") || existing === "" ? "" : "\n"}` +
      "# Added by `npm start`: seals destination secrets in the local D1 (base64 of 32 random bytes).\n" +
      `SECRETS_ENCRYPTION_KEY=${key}\n`,
  );
  step("Added a generated SECRETS_ENCRYPTION_KEY to .dev.vars (destination secrets are sealed with it).");
}
const vars = Object.fromEntries(
  readFileSync(devVars, "utf8")
    .split("\n")
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim().replace(/^"(.*)"$/, "$1")]),
);

// 3. Local D1.
step("Applying D1 migrations to the local database…");
runOrExit(path.join(bin, "wrangler"), ["d1", "migrations", "apply", "DB", "--local"]);

// 4. The Worker.
step(`Starting wrangler dev on ${baseUrl} (local D1 and Queues)…`);
const wrangler = spawn(
  path.join(bin, "wrangler"),
  ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false"],
  { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
);

const crons = [...readFileSync(path.join(root, "wrangler.toml"), "utf8").matchAll(/crons\s*=\s*\[([^\]]*)\]/g)]
  .flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((c) => c[1]));
const timers = [];
function cronEveryMs(cron) {
  const every = /^\*\/(\d+) \* \* \* \*$/.exec(cron);
  if (every) return Number(every[1]) * 60_000;
  if (/^\* \* \* \* \*$/.test(cron)) return 60_000;
  return 60 * 60_000; // anything more elaborate: hourly is close enough for local development
}

function stop(signal) {
  for (const t of timers) clearInterval(t);
  if (wrangler.exitCode === null) wrangler.kill(signal);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
wrangler.on("exit", (code, signal) => {
  for (const t of timers) clearInterval(t);
  process.exit(code ?? (signal ? 0 : 1));
});

async function waitUntilReady() {
  for (let i = 0; i < 240 && wrangler.exitCode === null; i++) {
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok || res.status === 503) return true;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

if (await waitUntilReady()) {
  for (const cron of crons) {
    const url = `${baseUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`;
    timers.push(setInterval(() => fetch(url).catch(() => {}), cronEveryMs(cron)));
  }
  const secret = (vars.EVENT_HOOK_SECRETS ?? "").split(",")[0]?.trim() ?? "";
  const header = "authorization";
  const fixture = "test/fixtures/okta/event-hook.delivery.user-session-start.json";
  console.log(`
\x1b[32m✔ okta-hooks-edge is running at ${baseUrl}\x1b[0m
  cron ${crons.join(", ")} simulated (wrangler dev does not run crons itself)

  Okta's verification request:
    curl -i ${baseUrl}/hooks/events -H 'x-okta-verification-challenge: hello-from-okta' -H '${header}: ${secret}'

  An event hook delivery (Okta's own example):
    curl -i ${baseUrl}/hooks/events -H 'content-type: application/json' -H '${header}: ${secret}' --data-binary @${fixture}

  What was stored, newest first (forward: 1 to be forwarded, 2 no destination wanted it, 0 loop-guarded):
    npx wrangler d1 execute DB --local --command "SELECT e.uuid, e.event_type, e.actor_alternate_id, e.forward FROM (SELECT uuids FROM event_batches ORDER BY id DESC LIMIT 10) b CROSS JOIN json_each(b.uuids) j CROSS JOIN events e ON e.uuid = j.value ORDER BY e.id DESC LIMIT 10"

  Health: curl ${baseUrl}/healthz   (details: add -H 'authorization: Bearer <ADMIN_TOKEN from .dev.vars>')
  Stop: Ctrl-C
`);
} else if (wrangler.exitCode === null) {
  console.error(`wrangler dev did not answer ${baseUrl}/healthz within 2 minutes; its output is above.`);
}
