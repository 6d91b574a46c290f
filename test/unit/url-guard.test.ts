import { describe, expect, it } from "vitest";
import { checkDestinationUrl } from "../../src/queue/url-guard";

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
