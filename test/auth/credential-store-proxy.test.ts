import { readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { makeProxyChain } from "./fixtures/proxy-chain.js";
import { errorOf, expectNoSecrets, writeAuthFile } from "./helpers.js";
import { storeSuite } from "./store-suite.js";

// The credential store when the secret is a proxy (`secret = PROXY`) or a token (`secret = TOKEN`).

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-access-token.signature";
const suite = storeSuite([TOKEN]);

/** The private proxy directories in the temporary directory now. */
async function proxyDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((d) => d.startsWith("cloudce-proxy-")).sort();
}

describe("secret = PROXY", () => {
  it("refuses to resolve before a proxy is set, but usesProxy and validate work", async () => {
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    expect(await s.usesProxy()).toBe(true);
    await s.validate();
    const e = await errorOf(suite.capture, () => s.resolve());
    expect(e.code).toBe("ProxyMissing");
    expect(e.message).toContain("section [fedcloud.othersite.example]");
    expect(await suite.store(suite.seedFile, "cloudprov.mysite.example").usesProxy()).toBe(false);
  });

  it("hands the proxy to the driver in memory, and writes no file unless the driver asks for one", async () => {
    const before = await proxyDirs();
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    await s.setProxy(suite.chain.proxyPem);
    const creds = await s.resolve();
    expect(creds.key).toBe("fedclouduser");
    expect(creds.proxy).toBe(suite.chain.proxyPem);
    expect(creds.secret).toBeUndefined();
    expect(await proxyDirs()).toEqual(before);
    await s.close();
  });

  it("writes the proxy, when asked, to a 0600 file in a private 0700 directory that close removes", async () => {
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    await s.setProxy(suite.chain.proxyPem);
    const path = await (await s.resolve()).proxyFile!();
    expect(await readFile(path, "utf8")).toBe(suite.chain.proxyPem);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    await s.close();
    await expect(stat(dirname(path))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("rewrites the file only when the proxy changes", async () => {
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    await s.setProxy(suite.chain.proxyPem);
    const path = await (await s.resolve()).proxyFile!();
    const first = (await stat(path)).ino;
    await s.setProxy(suite.chain.proxyPem);
    expect(await (await s.resolve()).proxyFile!()).toBe(path);
    expect((await stat(path)).ino).toBe(first);
    const renewed = await makeProxyChain({ secondsLeft: 7200 });
    suite.secrets.push(renewed.proxyPem);
    await s.setProxy(renewed.proxyPem); // the driver holding the path sees the new proxy at once
    expect(await readFile(path, "utf8")).toBe(renewed.proxyPem);
    expect((await stat(path)).ino).not.toBe(first);
    await s.close();
  });

  it("writes the proxy again when a temp cleaner removed it", async () => {
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    await s.setProxy(suite.chain.proxyPem);
    const path = await (await s.resolve()).proxyFile!();
    await rm(path);
    expect(await (await s.resolve()).proxyFile!()).toBe(path);
    expect(await readFile(path, "utf8")).toBe(suite.chain.proxyPem);
    await rm(dirname(path), { recursive: true, force: true });
    const again = await (await s.resolve()).proxyFile!();
    expect(await readFile(again, "utf8")).toBe(suite.chain.proxyPem);
    expect((await stat(dirname(again))).mode & 0o777).toBe(0o700);
    await rm(dirname(again), { recursive: true, force: true });
    const renewed = await makeProxyChain({ secondsLeft: 5400 });
    suite.secrets.push(renewed.proxyPem);
    await s.setProxy(renewed.proxyPem);
    expect(await readFile(await (await s.resolve()).proxyFile!(), "utf8")).toBe(renewed.proxyPem);
    await s.close();
  });

  it("keeps concurrent resolves consistent", async () => {
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    await s.setProxy(suite.chain.proxyPem);
    const paths = new Set(await Promise.all(Array.from({ length: 8 }, async () => (await s.resolve()).proxyFile!())));
    expect(paths.size).toBe(1);
    await s.close();
  });

  it("checks the proxy's lifetime (isProxyValid)", async () => {
    const s = suite.store(suite.seedFile, "fedcloud.othersite.example");
    expect((await errorOf(suite.capture, async () => s.checkProxy(1000))).code).toBe("ProxyMissing");
    await s.setProxy(suite.chain.proxyPem);
    expect(s.checkProxy(1000)).toBeGreaterThan(3500);
    const e = await errorOf(suite.capture, async () => s.checkProxy(4000));
    expect(e.code).toBe("ProxyExpired");
    expect(e.message).toMatch(/^proxy has \d+ s left, 4000 s required/);
  });

  it("gives no proxy for a section that does not say PROXY", async () => {
    const s = suite.store(suite.seedFile, "cloudprov.mysite.example");
    await s.setProxy(suite.chain.proxyPem);
    const creds = await s.resolve();
    expect([creds.proxy, creds.proxyFile]).toEqual([undefined, undefined]);
  });
});

describe("secret = TOKEN", () => {
  it("needs a token, then gives it as token and secret, no key needed", async () => {
    const file = await writeAuthFile(
      suite.dir,
      "token.auth",
      "[oidc.example]\nsecret = TOKEN\nauth_type = v3oidcaccesstoken\n",
    );
    const s = suite.store(file, "oidc.example");
    expect((await errorOf(suite.capture, () => s.resolve())).code).toBe("TokenMissing");
    s.setToken(TOKEN);
    expect(await s.resolve()).toEqual({ secret: TOKEN, token: TOKEN, extra: { auth_type: "v3oidcaccesstoken" } });
    expect(await s.usesProxy()).toBe(false);
  });
});

describe("output of every scenario above", () => {
  it("never contains a secret: not in logs (raw or scrubbed), not in errors", () => {
    expect(suite.capture.records.length).toBeGreaterThan(5);
    expect(suite.capture.errors.length).toBeGreaterThan(5);
    expectNoSecrets(suite.capture, suite.secrets);
  });
});
