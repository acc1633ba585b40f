/**
 * The proxy fixtures are only worth something if real tools accept them:
 * OpenSSL verifies the RFC 3820 chains, and the VOMS AC's signature checks
 * out against the VOMS server certificate.
 */

import { execFile } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AttributeCertificateV2 } from "pkijs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProxyChain, type ProxyChain } from "./fixtures/proxy-chain.js";

const run = promisify(execFile);
const OPENSSL = "/usr/bin/openssl";

describe("proxy chain fixtures", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cloudce-fixtures-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function opensslVerify(chain: ProxyChain, allowProxies = true): Promise<{ ok: boolean; output: string }> {
    const ca = join(dir, "ca.pem");
    const untrusted = join(dir, "untrusted.pem");
    const leaf = join(dir, "leaf.pem");
    await writeFile(ca, chain.caPem);
    await writeFile(untrusted, chain.userCertPem);
    await writeFile(leaf, chain.proxyCertPem);
    const args = [
      "verify",
      ...(allowProxies ? ["-allow_proxy_certs"] : []),
      "-CAfile",
      ca,
      "-untrusted",
      untrusted,
      leaf,
    ];
    try {
      const { stdout, stderr } = await run(OPENSSL, args);
      return { ok: true, output: stdout + stderr };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  }

  it("openssl verifies an RFC 3820 proxy chain, and only with proxies allowed", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600 });
    const allowed = await opensslVerify(chain);
    expect(allowed.output).toContain(": OK");
    expect(allowed.ok).toBe(true);
    const refused = await opensslVerify(chain, false);
    expect(refused.ok).toBe(false);
  });

  it("openssl verifies a proxy that carries a VOMS attribute certificate", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600, voms: { vo: "dteam" } });
    const result = await opensslVerify(chain);
    expect(result.ok, result.output).toBe(true);
  });

  it("openssl shows the proxy's ProxyCertInfo and the user certificate as the issuer", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600 });
    const leaf = join(dir, "text.pem");
    await writeFile(leaf, chain.proxyCertPem);
    const text = await run(OPENSSL, ["x509", "-in", leaf, "-noout", "-text"]);
    expect(text.stdout).toMatch(/Proxy Certificate Information: critical/);
    expect(text.stdout).toMatch(/Inherit all/);
    const names = await run(OPENSSL, ["x509", "-in", leaf, "-noout", "-issuer", "-subject", "-nameopt", "compat"]);
    expect(names.stdout).toContain(`issuer=${chain.userDn}\n`);
    expect(names.stdout).toContain(`subject=${chain.proxyDn}\n`);
  });

  it("the VOMS attribute certificate is signed by the VOMS server key", async () => {
    const chain = await makeProxyChain({ secondsLeft: 3600, voms: { vo: "dteam" } });
    const ac = AttributeCertificateV2.fromBER(chain.attributeCertificateDer!);
    const tbs = new Uint8Array(ac.acinfo.toSchema().toBER());
    const key = createPublicKey(chain.vomsServerCertPem!);
    expect(verify("sha256", tbs, key, new Uint8Array(ac.signatureValue.valueBlock.valueHexView))).toBe(true);
  });

  it("openssl refuses an expired proxy, so the expiry really is in the certificate", async () => {
    const chain = await makeProxyChain({ secondsLeft: -60 });
    const result = await opensslVerify(chain);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/expired/);
  });
});
