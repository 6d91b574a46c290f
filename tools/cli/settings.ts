/**
 * Where the CLI talks to and with which token: `--url` (else OKTA_HOOKS_EDGE_URL, else the local `wrangler dev`),
 * the admin token from OKTA_HOOKS_EDGE_TOKEN or `--token-file` — never from the command line, where it would
 * land in shell history and `ps`. The token travels in clear over http://, so http is for this machine only
 * unless `--allow-http` says otherwise.
 */
import { UsageError } from "./errors.ts";

export const DEFAULT_URL = "http://127.0.0.1:8787";
export const TOKEN_ENV = "OKTA_HOOKS_EDGE_TOKEN";
export const URL_ENV = "OKTA_HOOKS_EDGE_URL";

export interface ConnectionOptions {
  url?: string;
  tokenFile?: string;
  allowHttp?: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function resolveConnection(
  options: ConnectionOptions,
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): { baseUrl: string; token: string } {
  const raw = options.url ?? env[URL_ENV] ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url: "${raw}" is not a URL (e.g. https://okta-hooks-edge.example.workers.dev)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`--url: must be http:// or https://, not ${url.protocol}`);
  if (url.protocol === "http:" && !LOOPBACK.has(url.hostname) && options.allowHttp !== true) {
    throw new UsageError(`--url: http:// would send the admin token in clear to ${url.hostname}; use https:// (or --allow-http on a network you trust)`);
  }
  if (url.search !== "" || url.hash !== "") throw new UsageError("--url: give the gateway's base URL, without a query or fragment");

  let token: string | undefined;
  if (options.tokenFile !== undefined) {
    try {
      token = readFile(options.tokenFile).trim();
    } catch (error) {
      throw new UsageError(`--token-file: cannot read ${options.tokenFile} (${(error as { code?: string }).code ?? "error"})`);
    }
    if (token === "") throw new UsageError(`--token-file: ${options.tokenFile} is empty`);
  } else {
    token = env[TOKEN_ENV]?.trim();
  }
  if (token === undefined || token === "") {
    throw new UsageError(`no admin token: set ${TOKEN_ENV} (one of the gateway's ADMIN_TOKEN values) or pass --token-file FILE`);
  }
  if (/[\s,]/.test(token)) throw new UsageError("the admin token holds whitespace or a comma: give one token of ADMIN_TOKEN, not the list");
  return { baseUrl: `${url.origin}${url.pathname.replace(/\/+$/, "")}`, token };
}
