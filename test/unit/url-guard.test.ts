import { describe, expect, it } from "vitest";
import { checkDestinationUrl } from "../../src/forwarding/url-guard";

const strict = { allowInsecure: false };

describe("destination URL guard (SSRF)", () => {
  it.each([
    "https://hooks.example.com/okta",
    "https://hooks.example.com:8443/okta?x=1",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "https://internal-api.example.com/hook",
    "https://172.32.0.1/hook",
    "https://100.128.0.1/hook",
    "https://[64:ff9b::808:808]/hook", // NAT64 of 8.8.8.8
    "https://[2002:808:808::1]/hook", // 6to4 of 8.8.8.8
    "https://[::ffff:0:808:808]/hook", // IPv4-translated 8.8.8.8
    "https://hooks.example.com./okta", // one trailing dot: the same public name
  ])("accepts public https URL %s", (url) => {
    expect(checkDestinationUrl(url, strict).ok).toBe(true);
  });

  it.each([
    ["http://hooks.example.com/okta", "not_https"],
    ["ftp://hooks.example.com/okta", "not_https"],
    ["file:///etc/passwd", "not_https"],
    ["javascript:alert(1)", "not_https"],
    ["not a url", "invalid_url"],
    ["/relative/path", "invalid_url"],
    ["https://user:pass@hooks.example.com/", "credentials_in_url"],
    ["https://127.0.0.1/", "private_address"],
    ["https://127.1.2.3:8443/", "private_address"],
    ["https://10.0.0.5/", "private_address"],
    ["https://172.16.0.1/", "private_address"],
    ["https://172.31.255.255/", "private_address"],
    ["https://192.168.1.1/", "private_address"],
    ["https://100.64.0.1/", "private_address"],
    ["https://100.127.255.254/", "private_address"],
    ["https://169.254.169.254/latest/meta-data/", "private_address"],
    ["https://0.0.0.0/", "private_address"],
    ["https://224.0.0.1/", "private_address"],
    ["https://255.255.255.255/", "private_address"],
    ["https://2130706433/", "private_address"], // decimal 127.0.0.1
    ["https://0x7f000001/", "private_address"], // hex
    ["https://0177.0.0.1/", "private_address"], // octal
    ["https://0x7f.1/", "private_address"], // mixed short form
    ["https://127.1/", "private_address"],
    ["https://[::1]/", "private_address"],
    ["https://[::]/", "private_address"],
    ["https://[::ffff:127.0.0.1]/", "private_address"], // IPv4-mapped
    ["https://[::ffff:7f00:1]/", "private_address"],
    ["https://[::ffff:169.254.169.254]/", "private_address"],
    ["https://[::127.0.0.1]/", "private_address"], // IPv4-compatible
    ["https://[64:ff9b::10.0.0.1]/", "private_address"], // NAT64
    ["https://[64:ff9b:1::a9fe:a9fe]/", "private_address"], // local-use NAT64 (RFC 8215) of 169.254.169.254
    ["https://[2002:7f00:1::]/", "private_address"], // 6to4 of 127.0.0.1
    ["https://[fd00:ec2::254]/", "private_address"], // AWS metadata (IPv6)
    ["https://[fc00::1]/", "private_address"],
    ["https://[fe80::1%25eth0]/", "invalid_url"], // zone ids are not valid in URLs
    ["https://[fe80::1]/", "private_address"],
    ["https://[ff02::1]/", "private_address"],
    ["https://localhost/", "internal_hostname"],
    ["https://LOCALHOST./", "internal_hostname"],
    ["https://api.localhost/", "internal_hostname"],
    ["https://metadata.google.internal/computeMetadata/v1/", "internal_hostname"],
    ["https://service.internal/", "internal_hostname"],
    ["https://printer.local/", "internal_hostname"],
    ["https://router.home.arpa/", "internal_hostname"],
    ["https://[::ffff:0:127.0.0.1]/", "private_address"], // IPv4-translated ::ffff:0:0:0/96
    ["https://[::ffff:0:7f00:1]/", "private_address"],
    ["https://[::ffff:0:a9fe:a9fe]/", "private_address"], // IPv4-translated metadata address
    ["https://[2001::1]/", "private_address"], // Teredo 2001::/32
    ["https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "private_address"], // Teredo, RFC 4380 example
    ["https://[2001:db8::1]/", "private_address"], // documentation
    ["https://[2001:2::1]/", "private_address"], // benchmarking
    ["https://[3fff::1]/", "private_address"], // documentation (RFC 9637)
    ["https://[5f00::1]/", "private_address"], // segment routing (RFC 9602)
    ["https://[100::1]/", "private_address"], // discard-only
    ["https://[fec0::1]/", "private_address"], // deprecated site-local
    ["https://[64:ff9b::7f00:1]/", "private_address"], // NAT64 of loopback
    ["https://[64:ff9b:1::808:808]/", "private_address"], // local-use NAT64, whatever it embeds
    ["https://[2002:a9fe:a9fe::]/", "private_address"], // 6to4 of the metadata address
    ["https://[::a9fe:a9fe]/", "private_address"], // IPv4-compatible metadata address
    ["https://192.175.48.1/", "private_address"], // AS112
    ["https://198.18.0.1/", "private_address"], // benchmarking
    ["https://localhost../", "internal_hostname"], // several trailing dots
    ["https://metadata.google.internal../", "internal_hostname"],
    ["https://printer.local.../", "internal_hostname"],
    ["https://127.0.0.1../", "private_address"],
    ["https://169.254.169.254.../", "private_address"],
  ])("refuses %s (%s)", (url, reason) => {
    const check = checkDestinationUrl(url, strict);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.reason).toBe(reason);
      expect(check.message.length).toBeGreaterThan(10);
    }
  });

  it("allows http and private hosts when ALLOW_INSECURE_DESTINATIONS=true (local development)", () => {
    expect(checkDestinationUrl("http://127.0.0.1:9999/hook", { allowInsecure: true }).ok).toBe(true);
    expect(checkDestinationUrl("http://localhost/hook", { allowInsecure: true }).ok).toBe(true);
    expect(checkDestinationUrl("ftp://127.0.0.1/", { allowInsecure: true }).ok).toBe(false);
    expect(checkDestinationUrl("http://u:p@127.0.0.1/", { allowInsecure: true }).ok).toBe(false);
  });
});
