/**
 * SSRF guard for destination URLs: checked when a destination is written (a clear 400) and again before every
 * attempt (a row written before a rule tightened, or by hand, is still refused).
 *
 * Refused unless ALLOW_INSECURE_DESTINATIONS=true (local development against http://127.0.0.1):
 * - any scheme but https;
 * - IP literals outside public unicast space. The WHATWG URL parser first normalises the odd IPv4 spellings
 *   (`http://0x7f.1/`, `http://2130706433/`, `http://0177.0.0.1/` all become 127.0.0.1); the address is then
 *   classified by ipaddr.js (https://github.com/whitequark/ipaddr.js), which knows the IANA special-purpose
 *   registries (loopback, private, link-local, CGNAT, unique-local, multicast, reserved, documentation,
 *   benchmarking, Teredo, ORCHID, discard, …). Only its `unicast` class is accepted, so a range it learns later is
 *   refused rather than missed. IPv6 forms that embed an IPv4 address (IPv4-mapped `::ffff:0:0/96`,
 *   IPv4-translated `::ffff:0:0:0/96`, IPv4-compatible `::/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged
 *   by the IPv4 address they carry; the local-use NAT64 prefix `64:ff9b:1::/48` and Teredo `2001::/32` are refused
 *   outright (their embedding cannot be checked reliably);
 * - cloud metadata endpoints (169.254.169.254 and fd00:ec2::254 fall in the ranges above; metadata.google.internal
 *   and friends under the names below);
 * - `localhost`, `*.localhost`, `*.internal`, `*.local`, `*.localdomain`, `*.home.arpa`, with any number of
 *   trailing dots (`https://localhost../` is the same host to a resolver).
 * Credentials in the URL (`https://user:pass@…`) are refused always: they would be shown by the admin API and are
 * better sent as a header.
 *
 * Names are not resolved: Workers have no DNS API, and fetch from a Worker leaves through Cloudflare's network,
 * which does not reach the operator's private networks. `redirect: "manual"` in the sender closes the other door,
 * and the `global_fetch_strictly_public` compatibility flag (wrangler.toml) makes a destination inside the
 * gateway's own Cloudflare zone go through the zone's front door, never straight to its origin
 * (https://developers.cloudflare.com/workers/configuration/compatibility-flags/#global-fetch-strictly-public).
 *
 * Pure.
 */
import ipaddr from "ipaddr.js";

export type UrlRefusal =
  | "invalid_url"
  | "not_https"
  | "credentials_in_url"
  | "internal_hostname"
  | "private_address";

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: UrlRefusal; message: string };

const INTERNAL_NAME_SUFFIXES = [".localhost", ".internal", ".local", ".localdomain", ".home.arpa"];
const INTERNAL_NAMES = new Set(["localhost", "internal", "local", "localdomain", "metadata", "metadata.goog", "instance-data"]);

/** True when an IPv4 address is anything but public unicast. */
function isRefusedIpv4(address: ipaddr.IPv4): boolean {
  return address.range() !== "unicast";
}

/** The IPv4 address carried in the 16-bit groups `high` and `low`. */
function embeddedIpv4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 255, low >> 8, low & 255]);
}

/** True when an IPv6 address is anything but public unicast, judging IPv4-embedding forms by what they embed. */
function isRefusedIpv6(address: ipaddr.IPv6): boolean {
  const p = address.parts as [number, number, number, number, number, number, number, number];
  const range = address.range();
  switch (range) {
    case "ipv4Mapped": // ::ffff:a.b.c.d
    case "rfc6145": // ::ffff:0:a.b.c.d (IPv4-translated)
      return isRefusedIpv4(embeddedIpv4(p[6], p[7]));
    case "rfc6052": // NAT64: 64:ff9b::/96 embeds the IPv4 address; local-use 64:ff9b:1::/48 may embed anything
      return p[2] !== 0 || isRefusedIpv4(embeddedIpv4(p[6], p[7]));
    case "6to4": // 2002:AABB:CCDD::/48 routes to the IPv4 address AA.BB.CC.DD
      return isRefusedIpv4(embeddedIpv4(p[1], p[2]));
    case "unicast":
      break;
    default:
      return true;
  }
  // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1): ipaddr.js calls it unicast.
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) {
    return isRefusedIpv4(embeddedIpv4(p[6], p[7]));
  }
  return false;
}

function isInternalName(hostname: string): boolean {
  if (INTERNAL_NAMES.has(hostname)) return true;
  return INTERNAL_NAME_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}

const PRIVATE_ADDRESS: UrlCheck = {
  ok: false,
  reason: "private_address",
  message: "points to a loopback, private, link-local, CGNAT, metadata or reserved address, which destinations may not use",
};

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

  // The URL parser lower-cases names and removes at most one trailing dot of an IPv4 literal; a resolver ignores
  // any number of them, so strip them all before judging the name.
  const hostname = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (hostname === "") return { ok: false, reason: "invalid_url", message: "has no host" };

  if (hostname.startsWith("[") && hostname.endsWith("]")) {
    const literal = hostname.slice(1, -1);
    if (!ipaddr.IPv6.isValid(literal)) return PRIVATE_ADDRESS; // the URL parser accepted it; refuse rather than guess
    return isRefusedIpv6(ipaddr.IPv6.parse(literal)) ? PRIVATE_ADDRESS : { ok: true, url };
  }
  if (/^[\d.]+$/.test(hostname)) {
    // The URL parser turned every IPv4 spelling into a dotted quad (`127.0.0.1..` is one once its dots are gone);
    // anything else made of digits and dots is refused rather than guessed at.
    if (!ipaddr.IPv4.isValidFourPartDecimal(hostname)) return PRIVATE_ADDRESS;
    return isRefusedIpv4(ipaddr.IPv4.parse(hostname)) ? PRIVATE_ADDRESS : { ok: true, url };
  }
  if (isInternalName(hostname)) {
    return { ok: false, reason: "internal_hostname", message: `host "${hostname}" is an internal name, which destinations may not use` };
  }
  return { ok: true, url };
}
