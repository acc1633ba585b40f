import { describe, expect, it } from "vitest";
import { checkProxyLifetime, readProxyInfo } from "../../src/auth/index.js";
import { isCloudceError } from "../../src/errors.js";
import { makeProxyChain, TEST_CA_DN } from "./fixtures/proxy-chain.js";

const NOW = new Date("2026-03-01T12:00:00Z");

/** The thrown CloudceError's code and message, or a failure when nothing is thrown. */
function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCloudceError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a CloudceError");
}

describe("readProxyInfo", () => {
  it("reads an RFC 3820 proxy: names, identity, validity", async () => {
    const chain = await makeProxyChain({ secondsLeft: 7200, now: NOW });
    const info = readProxyInfo(chain.proxyPem, NOW);
    expect(info.subject).toBe(chain.proxyDn);
    expect(info.subject).toMatch(/^\/DC=org\/DC=cloudce-test\/O=Grid\/CN=Test User\/CN=\d+$/);
    expect(info.issuer).toBe(chain.userDn);
    expect(info.identity).toBe(chain.userDn);
    expect(info.isRfc3820).toBe(true);
    expect(info.secondsLeft).toBe(7200);
    expect(info.notAfter.toISOString()).toBe("2026-03-01T14:00:00.000Z");
    expect(info.notBefore.getTime()).toBeLessThan(NOW.getTime());
    expect(info.voms).toBeUndefined();
  });

  it("recognises a legacy Globus proxy and still finds the identity", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600, legacy: true, now: NOW });
    const info = readProxyInfo(chain.proxyPem, NOW);
    expect(info.isRfc3820).toBe(false);
    expect(info.subject).toBe(`${chain.userDn}/CN=proxy`);
    expect(info.identity).toBe(chain.userDn);
  });

  it("takes the identity from the proxy's issuer when the file has no user certificate", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
    const info = readProxyInfo(chain.proxyCertPem + chain.proxyKeyPem, NOW);
    expect(info.identity).toBe(chain.userDn);
  });

  it("reports the minimum lifetime over the chain", async () => {
    const chain = await makeProxyChain({ secondsLeft: 7200, userSecondsLeft: 600, now: NOW });
    expect(readProxyInfo(chain.proxyPem, NOW).secondsLeft).toBe(600);
  });

  it("reads the VOMS attribute certificate: VO, FQANs, validity", async () => {
    const chain = await makeProxyChain({
      secondsLeft: 7200,
      now: NOW,
      voms: { vo: "dteam", fqans: ["/dteam", "/dteam/Role=pilot/Capability=NULL"], secondsLeft: 1800 },
    });
    const info = readProxyInfo(chain.proxyPem, NOW);
    expect(info.voms).toEqual({
      vo: "dteam",
      fqans: ["/dteam", "/dteam/Role=pilot/Capability=NULL"],
      notAfter: new Date(NOW.getTime() + 1800_000),
    });
  });

  it("accepts CRLF line endings and text around the blocks", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
    const crlf = `Bag Attributes\r\n${chain.proxyPem.replace(/\n/g, "\r\n")}`;
    expect(readProxyInfo(crlf, NOW).identity).toBe(chain.userDn);
  });

  describe("refuses what cannot be a usable proxy, with ProxyInvalid", () => {
    it("garbage", () => {
      expect(failure(() => readProxyInfo("this is not a proxy", NOW))).toEqual({
        code: "ProxyInvalid",
        message: expect.stringContaining("no PEM certificate found"),
      });
      expect(failure(() => readProxyInfo("", NOW)).code).toBe("ProxyInvalid");
    });

    it("a PEM cut short (no END line)", async () => {
      const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
      const cut = chain.proxyPem.slice(0, Math.floor(chain.proxyCertPem.length / 2));
      const f = failure(() => readProxyInfo(cut, NOW));
      expect(f.code).toBe("ProxyInvalid");
      expect(f.message).toMatch(/'CERTIFICATE' has no END line \(truncated/);
    });

    it("a certificate whose base64 body lost lines", async () => {
      const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
      const lines = chain.proxyCertPem.trim().split("\n");
      const damaged = `${[...lines.slice(0, 3), ...lines.slice(6)].join("\n")}\n${chain.proxyKeyPem}`;
      const f = failure(() => readProxyInfo(damaged, NOW));
      expect(f.code).toBe("ProxyInvalid");
      expect(f.message).toMatch(/truncated or corrupted/);
    });

    it("a certificate without its key", async () => {
      const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
      const f = failure(() => readProxyInfo(chain.proxyCertPem + chain.userCertPem, NOW));
      expect(f).toEqual({ code: "ProxyInvalid", message: expect.stringContaining("has no private key") });
    });

    it("a key that does not match the proxy certificate", async () => {
      const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
      const f = failure(() => readProxyInfo(chain.proxyCertPem + chain.userKeyPem + chain.userCertPem, NOW));
      expect(f).toEqual({ code: "ProxyInvalid", message: expect.stringContaining("does not match") });
    });

    it("an encrypted key", async () => {
      const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
      const encrypted = chain.proxyCertPem + chain.proxyKeyPem.replace(/PRIVATE KEY/g, "ENCRYPTED PRIVATE KEY");
      expect(failure(() => readProxyInfo(encrypted, NOW)).message).toMatch(/encrypted/);
    });

    it("never puts key material in the message", async () => {
      const chain = await makeProxyChain({ secondsLeft: 3600, now: NOW });
      const keyBody = chain.userKeyPem.split("\n")[1]!;
      const f = failure(() => readProxyInfo(chain.proxyCertPem + chain.userKeyPem, NOW));
      expect(f.message).not.toContain(keyBody);
      expect(f.message).not.toContain(TEST_CA_DN);
    });
  });
});

describe("checkProxyLifetime", () => {
  it("returns the seconds left when enough remain", async () => {
    const chain = await makeProxyChain({ secondsLeft: 5000, now: NOW });
    expect(checkProxyLifetime(chain.proxyPem, 1000, NOW)).toBe(5000);
  });

  it("says how long is left when it is too short", async () => {
    const chain = await makeProxyChain({ secondsLeft: 312, now: NOW });
    const f = failure(() => checkProxyLifetime(chain.proxyPem, 1000, NOW));
    expect(f.code).toBe("ProxyExpired");
    expect(f.message).toContain("proxy has 312 s left, 1000 s required");
    expect(f.message).toContain(chain.userDn);
  });

  it("says when it expired", async () => {
    const chain = await makeProxyChain({ secondsLeft: -40, now: NOW });
    const f = failure(() => checkProxyLifetime(chain.proxyPem, 0, NOW));
    expect(f.code).toBe("ProxyExpired");
    expect(f.message).toContain("proxy has 0 s left, 0 s required; it expired at 2026-03-01T11:59:20.000Z");
  });

  it("counts the VOMS attributes' lifetime too", async () => {
    const chain = await makeProxyChain({ secondsLeft: 7200, now: NOW, voms: { vo: "dteam", secondsLeft: 500 } });
    const f = failure(() => checkProxyLifetime(chain.proxyPem, 1000, NOW));
    expect(f.message).toContain("proxy has 500 s left, 1000 s required; the VOMS attributes of VO dteam expire first");
  });

  it("refuses a proxy that only becomes valid later than clock skew explains", async () => {
    const chain = await makeProxyChain({ secondsLeft: 7200, now: new Date(NOW.getTime() + 3600_000) });
    const f = failure(() => checkProxyLifetime(chain.proxyPem, 1000, NOW));
    expect(f).toEqual({
      code: "ProxyInvalid",
      message: expect.stringContaining("not valid before 2026-03-01T12:55:00.000Z"),
    });
    const skewed = await makeProxyChain({ secondsLeft: 7200, now: new Date(NOW.getTime() + 120_000) });
    expect(checkProxyLifetime(skewed.proxyPem, 1000, NOW)).toBe(7320);
  });

  it("passes ProxyInvalid through for garbage", () => {
    expect(failure(() => checkProxyLifetime("garbage", 1000, NOW)).code).toBe("ProxyInvalid");
  });
});
