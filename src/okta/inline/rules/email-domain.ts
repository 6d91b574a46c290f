/**
 * Email domains as registration.email-domain rules compare them. An email's domain can be spelled many ways that
 * mail systems and browsers treat as one: `Evil.COM`, `evil.com.` (the DNS root), `evil.com ` (stray whitespace),
 * `evil。com` (an ideographic full stop), `bücher.example` and its punycode `xn--bcher-kva.example`. A list entry
 * must match every spelling, so both the configured entries (when a rule is written) and the registrant's domain
 * (when it is decided) go through the same normalisation: trim, the WHATWG URL parser's host processing (UTS #46
 * IDNA mapping and lower-casing to ASCII, https://url.spec.whatwg.org/#host-parsing), then every trailing dot removed.
 *
 * Pure.
 */

/** The canonical ASCII form of a domain, or undefined when it is not one (bad characters, empty labels…). */
export function normaliseDomain(raw: string): string | undefined {
  const trimmed = raw.trim();
  // Only what can be a host: no URL delimiters that would make the parser read something else as the host.
  if (trimmed === "" || /[\s/\\?#@:[\]%]/.test(trimmed)) return undefined;
  let host: string;
  try {
    host = new URL(`http://${trimmed}/`).hostname;
  } catch {
    return undefined;
  }
  host = host.replace(/\.+$/, "");
  return /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host) ? host : undefined;
}

/** The normalised domain of an email address, or undefined when the value has none or it does not normalise. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf("@");
  return at < 0 ? undefined : normaliseDomain(email.slice(at + 1));
}

/** Does a normalised domain match a list entry (`example.com`, or `*.example.com` for its subdomains)? */
export function domainMatches(domain: string, entry: string): boolean {
  return entry.startsWith("*.") ? domain.endsWith(entry.slice(1)) : domain === entry;
}
