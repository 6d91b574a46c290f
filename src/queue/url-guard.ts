/**
 * SSRF guard for destination URLs (PRODUCT 2B): checked when a destination is written (a clear 400) and again
 * before every attempt (a row written before a rule tightened, or by hand, is still refused).
 *
 * Refused unless ALLOW_INSECURE_DESTINATIONS=true (local development against http://127.0.0.1):
 * - any scheme but https;
 * - IP literals in loopback, private, link-local, CGNAT (100.64/10), unique-local, multicast, reserved and
 *   documentation ranges, including the forms that hide them: decimal/octal/hex IPv4 (the WHATWG URL parser
 *   normalises `http://0x7f.1/` and `http://2130706433/` to 127.0.0.1 before we look), IPv4-mapped,
 *   IPv4-compatible, NAT64 and 6to4 IPv6;
 * - cloud metadata endpoints (169.254.169.254 and fd00:ec2::254 fall in the ranges above; metadata.google.internal
 *   and friends under the names below);
 * - `localhost`, `*.localhost`, `*.internal`, `*.local`, `*.localdomain`, `*.home.arpa`.
 * Credentials in the URL (`https://user:pass@…`) are refused always: they would be shown by the admin API and are
 * better sent as a header.
 *
 * Names are not resolved: Workers have no DNS API, and fetch from a Worker leaves through Cloudflare's network,
 * which does not reach the operator's private networks. `redirect: "manual"` in the sender closes the other door.
 *
 * Pure.
 */

export type UrlRefusal =
  | "invalid_url"
  | "not_https"
  | "credentials_in_url"
  | "internal_hostname"
  | "private_address";

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: UrlRefusal; message: string };

const INTERNAL_NAME_SUFFIXES = [".localhost", ".internal", ".local", ".localdomain", ".home.arpa"];
const INTERNAL_NAMES = new Set(["localhost", "internal", "local", "localdomain", "metadata", "metadata.goog", "instance-data"]);

/** IPv4 ranges refused, as [first octets as a 32-bit number, prefix length]. */
const REFUSED_IPV4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

function inIpv4Range(n: number, base: string, prefix: number): boolean {
  const b = ipv4ToNumber(base) as number;
  const size = 2 ** (32 - prefix);
  return Math.floor(n / size) === Math.floor(b / size);
}

/** True when a dotted-quad IPv4 address is in a refused range. */
export function isRefusedIpv4(address: string): boolean {
  const n = ipv4ToNumber(address);
  if (n === undefined) return true; // not a clean dotted quad: refuse rather than guess
  return REFUSED_IPV4.some(([base, prefix]) => inIpv4Range(n, base, prefix));
}

/** The eight 16-bit groups of an IPv6 address (without brackets), or undefined when it is not one. */
function parseIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  // A trailing dotted IPv4 becomes two groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToNumber(v4[2] as string);
    if (n === undefined) return undefined;
    text = `${v4[1]}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0] as string);
  const tail = halves.length === 2 ? parse(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 && missing !== 0) return undefined;
  if (halves.length === 2 && missing < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : undefined;
}

function groupsToIpv4(high: number, low: number): string {
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** True when an IPv6 address (no brackets) is loopback, unspecified, private, link-local, or embeds a refused IPv4. */
export function isRefusedIpv6(address: string): boolean {
  const g = parseIpv6(address);
  if (!g) return true;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0) {
    // ::, ::1 and IPv4-compatible ::a.b.c.d
    if (g6 === 0 && (g7 === 0 || g7 === 1)) return true;
    return isRefusedIpv4(groupsToIpv4(g6, g7));
  }
  if (firstFiveZero && g5 === 0xffff) return isRefusedIpv4(groupsToIpv4(g6, g7)); // IPv4-mapped
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return isRefusedIpv4(groupsToIpv4(g6, g7)); // NAT64
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return true; // local-use NAT64 64:ff9b:1::/48 (RFC 8215): any embedding
  if (g0 === 0x2002) return isRefusedIpv4(groupsToIpv4(g1, g2)); // 6to4
  if ((g0 & 0xfe00) === 0xfc00) return true; // unique local fc00::/7 (fd00:ec2::254: AWS metadata)
  if ((g0 & 0xffc0) === 0xfe80) return true; // link-local
  if ((g0 & 0xffc0) === 0xfec0) return true; // site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return true; // documentation
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return true; // discard-only 100::/64
  return false;
}

function isInternalName(hostname: string): boolean {
  if (INTERNAL_NAMES.has(hostname)) return true;
  return INTERNAL_NAME_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}

/** Check a destination URL. `allowInsecure` = ALLOW_INSECURE_DESTINATIONS (local development only). */
export function checkDestinationUrl(raw: string, options: { allowInsecure: boolean }): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "invalid_url", message: "is not a valid absolute URL" };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      ok: false,
      reason: "credentials_in_url",
      message: "must not contain credentials; send them as a header (format okta: oktaAuth)",
    };
  }
  const allowedSchemes = options.allowInsecure ? ["https:", "http:"] : ["https:"];
  if (!allowedSchemes.includes(url.protocol)) {
    return { ok: false, reason: "not_https", message: "must use https:// (set ALLOW_INSECURE_DESTINATIONS=true for local development)" };
  }
  if (options.allowInsecure) return { ok: true, url };

  const hostname = url.hostname.toLowerCase().replace(/\.$/, "");
  if (hostname === "") return { ok: false, reason: "invalid_url", message: "has no host" };
  const isIpv6 = hostname.startsWith("[") && hostname.endsWith("]");
  const isIpv4 = !isIpv6 && /^[\d.]+$/.test(hostname);
  if (isIpv6 ? isRefusedIpv6(hostname.slice(1, -1)) : isIpv4 && isRefusedIpv4(hostname)) {
    return {
      ok: false,
      reason: "private_address",
      message: "points to a loopback, private, link-local, CGNAT, metadata or reserved address, which destinations may not use",
    };
  }
  if (!isIpv4 && !isIpv6 && isInternalName(hostname)) {
    return { ok: false, reason: "internal_hostname", message: `host "${hostname}" is an internal name, which destinations may not use` };
  }
  return { ok: true, url };
}
