// Load from a second process on 127.0.0.1 (autocannon), and the bare baseline Worker under the same `wrangler dev`
// and workerd as the gateway (bench/bare-worker.js: reads the body, answers a constant), so every figure can be
// quoted as a ratio of what this machine does with no gateway code at all.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { freePort } from "../test/e2e/gateway.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

/** One bounded autocannon run: `seconds` long, `connections` at once; `body()` makes each request's body. */
export function load(baseUrl, scenario, { seconds, connections }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${baseUrl}${scenario.path}`,
        connections,
        duration: seconds,
        method: scenario.method,
        headers: scenario.headers,
        requests: [
          {
            setupRequest(req) {
              if (scenario.body) req.body = scenario.body();
              return req;
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

/**
 * A baseline Worker under `wrangler dev`, on a free port of 127.0.0.1: bench/bare-worker.toml (reads the body,
 * answers a constant) or bench/bare-worker-logging.toml (the same plus one log line per request, which under
 * `wrangler dev` is most of what the gateway must do beyond it: docs/testing.md), or bench/bare-worker-d1.toml (the
 * logging one plus storing each event once in one local D1 round trip, kept under `persistTo`). `output()` is what it
 * printed (the logging ones' lines carry their in-Worker `ms`, measured like the gateway's).
 */
export async function startBare(config = "bench/bare-worker.toml", { persistTo } = {}) {
  const port = await freePort();
  const child = spawn(
    path.join(ROOT, "node_modules", ".bin", "wrangler"),
    [
      "dev", "--config", config, "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false",
      ...(persistTo ? ["--persist-to", persistTo] : []),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
    },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  let ready = false;
  for (let i = 0; i < 360 && !ready; i++) {
    try {
      ready = (await fetch(baseUrl, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      // not listening yet
    }
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }
  if (!ready) {
    stop();
    throw new Error(`${config} did not start`);
  }
  return { baseUrl, stop, output: () => out };
}

/**
 * The process group of the `wrangler dev` listening on `port` (Linux: wrangler's Node process and its workerd), or
 * undefined elsewhere. Every wrangler this benchmark starts leads its own group.
 */
export function processGroupOf(port) {
  if (!existsSync("/proc")) return undefined;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args.some((a) => a.endsWith("wrangler") || a.endsWith("cli.js") || a.endsWith("wrangler.js")) && args[args.indexOf("--port") + 1] === String(port)) {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/**
 * CPU milliseconds (user + system) used so far by every process of group `pgid`, or NaN. Unlike req/s, CPU per
 * request hardly moves when other work shares the machine: it is the steadiest ratio this benchmark has.
 */
export function cpuMsOfGroup(pgid) {
  if (pgid === undefined) return NaN;
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}
