import { chmod, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialStore } from "../../src/auth/index.js";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { makeProxyChain, type ProxyChain } from "./fixtures/proxy-chain.js";
import { captureLogs, errorOf, expectNoSecrets, makeTempDir, writeAuthFile } from "./helpers.js";

const capture = captureLogs();
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-access-token.signature";
const APP_SECRET = "app-cred-secret-value";
const SECRETS = [
  "mypassword",
  "01234567",
  TOKEN,
  APP_SECRET,
  "pa#ss;wo=rd",
  "first-of-two-secrets",
  "second-of-two-secrets",
];

let tmp: { dir: string; cleanup: () => Promise<void> };
let chain: ProxyChain;
let seedFile: string;
let stores: CredentialStore[] = [];

/** The private proxy directories in the temporary directory now. */
async function proxyDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((d) => d.startsWith("cloudce-proxy-")).sort();
}

function store(authFile: string, section: string): CredentialStore {
  const s = new CredentialStore({ authFile, section, logger: capture.logger });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  tmp = await makeTempDir();
  chain = await makeProxyChain({ secondsLeft: 3600, voms: { vo: "dteam" } });
  SECRETS.push(chain.proxyPem, chain.proxyKeyPem);
  seedFile = await writeAuthFile(tmp.dir, "cloud.auth", SEED_AUTH_FILE);
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
  await tmp.cleanup();
});

describe("section choice and values", () => {
  it("uses the section named exactly after the CE", async () => {
    const creds = await store(seedFile, "cloudprov.mysite.example").resolve();
    expect(creds).toEqual({ key: "cloudprovuser", secret: "01234567", extra: {} });
  });

  it("falls back to [DEFAULT] when there is no section for the CE (names are case-sensitive)", async () => {
    expect(await store(seedFile, "other.example").resolve()).toEqual({
      key: "myusername",
      secret: "mypassword",
      extra: {},
    });
    expect(await store(seedFile, "CLOUDPROV.MYSITE.EXAMPLE").resolve()).toMatchObject({ key: "myusername" });
  });

  it("lets a CE section inherit what it does not set from [DEFAULT], as configparser does", async () => {
    // The common DIRAC layout: one account in [DEFAULT], a password per CE host.
    const file = await writeAuthFile(
      tmp.dir,
      "inherit.auth",
      "[DEFAULT]\nkey = robot\nuser_domain_name = Default\n[ce-a.example]\nsecret = pass-for-a\n[ce-b.example]\nKey = other\nsecret = pass-for-b\n",
    );
    expect(await store(file, "ce-a.example").resolve()).toEqual({
      key: "robot",
      secret: "pass-for-a",
      extra: { user_domain_name: "Default" },
    });
    expect(await store(file, "ce-b.example").resolve()).toEqual({
      key: "other",
      secret: "pass-for-b",
      extra: { user_domain_name: "Default" },
    });
  });

  it("passes further keys to the driver, lower-cased", async () => {
    const file = await writeAuthFile(
      tmp.dir,
      "extra.auth",
      `[ce.example]\nApplication_Credential_ID = 1234abcd\napplication_credential_secret = "${APP_SECRET}"\nsecret = "${APP_SECRET}"\nUser_Domain_Name = Default\n`,
    );
    const creds = await store(file, "ce.example").resolve();
    expect(creds.key).toBeUndefined(); // an application credential id identifies itself
    expect(creds.extra).toEqual({
      application_credential_id: "1234abcd",
      application_credential_secret: APP_SECRET,
      user_domain_name: "Default",
    });
  });

  it("reads a file with CRLF line ends, a BOM and literal special characters", async () => {
    const file = await writeAuthFile(
      tmp.dir,
      "crlf.auth",
      Buffer.from(`\uFEFF[ce.example]\r\nkey = 'u1'\r\nsecret = pa#ss;wo=rd\r\n`, "utf8"),
    );
    expect(await store(file, "ce.example").resolve()).toEqual({ key: "u1", secret: "pa#ss;wo=rd", extra: {} });
  });

  it("reads a value spread over indented lines as configparser does, joined with newlines", async () => {
    const file = await writeAuthFile(
      tmp.dir,
      "multiline.auth",
      "[ce.example]\nkey = u1\nsecret = mypassword\nproject_name = one\n  two\n\n  # between\n  three\n",
    );
    expect(await store(file, "ce.example").resolve()).toEqual({
      key: "u1",
      secret: "mypassword",
      extra: { project_name: "one\ntwo\n\nthree" },
    });
  });

  it("expands $VAR and ${VAR} in the path", async () => {
    process.env["CLOUDCE_AUTH_TEST_DIR"] = tmp.dir;
    try {
      expect((await store("${CLOUDCE_AUTH_TEST_DIR}/cloud.auth", "x").resolve()).key).toBe("myusername");
      expect((await store("$CLOUDCE_AUTH_TEST_DIR/cloud.auth", "x").resolve()).key).toBe("myusername");
    } finally {
      delete process.env["CLOUDCE_AUTH_TEST_DIR"];
    }
  });
});

describe("errors name the file and section, never a value", () => {
  it("file missing", async () => {
    const path = join(tmp.dir, "absent.auth");
    const e = await errorOf(capture, () => store(path, "x").resolve());
    expect(e.code).toBe("AuthFileMissing");
    expect(e.message).toContain(path);
  });

  it("unset variable in the path", async () => {
    const e = await errorOf(capture, () => store("$CLOUDCE_SURELY_UNSET/cloud.auth", "x").resolve());
    expect(e.code).toBe("AuthFileMissing");
    expect(e.message).toContain("$CLOUDCE_SURELY_UNSET");
  });

  it("unreadable: a directory", async () => {
    const e = await errorOf(capture, () => store(tmp.dir, "x").resolve());
    expect(e.code).toBe("AuthFileUnreadable");
    expect(e.message).toContain(tmp.dir);
  });

  it.skipIf(process.getuid?.() === 0)("unreadable: no read permission", async () => {
    const file = await writeAuthFile(tmp.dir, "noread.auth", SEED_AUTH_FILE, 0o000);
    const e = await errorOf(capture, () => store(file, "x").resolve());
    expect(e).toEqual({ code: "AuthFileUnreadable", message: expect.stringContaining("permission denied") });
  });

  it("section missing", async () => {
    const file = await writeAuthFile(tmp.dir, "nosection.auth", "[a.example]\nkey = u\nsecret = mypassword\n");
    const e = await errorOf(capture, () => store(file, "b.example").resolve());
    expect(e.code).toBe("AuthSectionMissing");
    expect(e.message).toContain(file);
    expect(e.message).toContain("[b.example]");
  });

  it("a key given twice, which DIRAC cannot read either", async () => {
    const file = await writeAuthFile(
      tmp.dir,
      "twice.auth",
      "[ce.example]\nkey = u\nsecret = first-of-two-secrets\nSECRET = second-of-two-secrets\n",
    );
    const e = await errorOf(capture, () => store(file, "ce.example").resolve());
    expect(e.code).toBe("AuthFileUnreadable");
    expect(e.message).toContain(`${file} line 4: section [ce.example] sets key 'secret' twice`);
  });

  it("secret missing or empty, key missing", async () => {
    const file = await writeAuthFile(
      tmp.dir,
      "keys.auth",
      '[nosecret]\nkey = u\n[empty]\nkey = u\nsecret = ""\n[nokey]\nsecret = mypassword\n',
    );
    for (const [section, what] of [
      ["nosecret", "no secret"],
      ["empty", "no secret"],
      ["nokey", "no key"],
    ] as const) {
      const e = await errorOf(capture, () => store(file, section).resolve());
      expect(e.code).toBe("AuthKeyMissing");
      expect(e.message).toContain(`section [${section}] of ${file}`);
      expect(e.message).toContain(what);
    }
  });
});

describe("permissions", () => {
  it("refuses a file readable by others, with the chmod that fixes it", async () => {
    const file = await writeAuthFile(tmp.dir, "open.auth", SEED_AUTH_FILE, 0o644);
    const e = await errorOf(capture, () => store(file, "x").resolve());
    expect(e.code).toBe("AuthFileInsecure");
    expect(e.message).toContain(`chmod 600 ${file}`);
    expect(e.message).toContain("0644");
    await chmod(file, 0o602);
    expect((await errorOf(capture, () => store(file, "x").resolve())).code).toBe("AuthFileInsecure");
  });

  it("warns once about a group-readable file, and works", async () => {
    const file = await writeAuthFile(tmp.dir, "group.auth", SEED_AUTH_FILE, 0o640);
    const before = capture.records.length;
    const s = store(file, "x");
    await s.resolve();
    await s.resolve();
    await store(file, "y").validate();
    const warnings = capture.records.slice(before).filter((r) => r.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`chmod 600 ${file}`);
  });

  it("is silent about a 0600 file", async () => {
    const before = capture.records.length;
    await store(seedFile, "x").resolve();
    expect(capture.records.slice(before).filter((r) => r.level === "warn")).toHaveLength(0);
  });
});

describe("secret = PROXY", () => {
  it("refuses to resolve before a proxy is set, but usesProxy and validate work", async () => {
    const s = store(seedFile, "fedcloud.othersite.example");
    expect(await s.usesProxy()).toBe(true);
    await s.validate();
    const e = await errorOf(capture, () => s.resolve());
    expect(e.code).toBe("ProxyMissing");
    expect(e.message).toContain("section [fedcloud.othersite.example]");
    expect(await store(seedFile, "cloudprov.mysite.example").usesProxy()).toBe(false);
  });

  it("hands the proxy to the driver in memory, and writes no file unless the driver asks for one", async () => {
    const before = await proxyDirs();
    const s = store(seedFile, "fedcloud.othersite.example");
    await s.setProxy(chain.proxyPem);
    const creds = await s.resolve();
    expect(creds.key).toBe("fedclouduser");
    expect(creds.proxy).toBe(chain.proxyPem);
    expect(creds.secret).toBeUndefined();
    expect(await proxyDirs()).toEqual(before);
    await s.close();
  });

  it("writes the proxy, when asked, to a 0600 file in a private 0700 directory that close removes", async () => {
    const s = store(seedFile, "fedcloud.othersite.example");
    await s.setProxy(chain.proxyPem);
    const path = await (await s.resolve()).proxyFile!();
    expect(await readFile(path, "utf8")).toBe(chain.proxyPem);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    await s.close();
    await expect(stat(dirname(path))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("rewrites the file only when the proxy changes", async () => {
    const s = store(seedFile, "fedcloud.othersite.example");
    await s.setProxy(chain.proxyPem);
    const path = await (await s.resolve()).proxyFile!();
    const first = (await stat(path)).ino;
    await s.setProxy(chain.proxyPem);
    expect(await (await s.resolve()).proxyFile!()).toBe(path);
    expect((await stat(path)).ino).toBe(first);
    const renewed = await makeProxyChain({ secondsLeft: 7200 });
    SECRETS.push(renewed.proxyPem);
    await s.setProxy(renewed.proxyPem); // the driver holding the path sees the new proxy at once
    expect(await readFile(path, "utf8")).toBe(renewed.proxyPem);
    expect((await stat(path)).ino).not.toBe(first);
    await s.close();
  });

  it("writes the proxy again when a temp cleaner removed it", async () => {
    const s = store(seedFile, "fedcloud.othersite.example");
    await s.setProxy(chain.proxyPem);
    const path = await (await s.resolve()).proxyFile!();
    await rm(path);
    expect(await (await s.resolve()).proxyFile!()).toBe(path);
    expect(await readFile(path, "utf8")).toBe(chain.proxyPem);
    await rm(dirname(path), { recursive: true, force: true });
    const again = await (await s.resolve()).proxyFile!();
    expect(await readFile(again, "utf8")).toBe(chain.proxyPem);
    expect((await stat(dirname(again))).mode & 0o777).toBe(0o700);
    await rm(dirname(again), { recursive: true, force: true });
    const renewed = await makeProxyChain({ secondsLeft: 5400 });
    SECRETS.push(renewed.proxyPem);
    await s.setProxy(renewed.proxyPem);
    expect(await readFile(await (await s.resolve()).proxyFile!(), "utf8")).toBe(renewed.proxyPem);
    await s.close();
  });

  it("keeps concurrent resolves consistent", async () => {
    const s = store(seedFile, "fedcloud.othersite.example");
    await s.setProxy(chain.proxyPem);
    const paths = new Set(await Promise.all(Array.from({ length: 8 }, async () => (await s.resolve()).proxyFile!())));
    expect(paths.size).toBe(1);
    await s.close();
  });

  it("checks the proxy's lifetime (isProxyValid)", async () => {
    const s = store(seedFile, "fedcloud.othersite.example");
    expect((await errorOf(capture, async () => s.checkProxy(1000))).code).toBe("ProxyMissing");
    await s.setProxy(chain.proxyPem);
    expect(s.checkProxy(1000)).toBeGreaterThan(3500);
    const e = await errorOf(capture, async () => s.checkProxy(4000));
    expect(e.code).toBe("ProxyExpired");
    expect(e.message).toMatch(/^proxy has \d+ s left, 4000 s required/);
  });

  it("gives no proxy for a section that does not say PROXY", async () => {
    const s = store(seedFile, "cloudprov.mysite.example");
    await s.setProxy(chain.proxyPem);
    const creds = await s.resolve();
    expect([creds.proxy, creds.proxyFile]).toEqual([undefined, undefined]);
  });
});

describe("secret = TOKEN", () => {
  it("needs a token, then gives it as token and secret, no key needed", async () => {
    const file = await writeAuthFile(
      tmp.dir,
      "token.auth",
      "[oidc.example]\nsecret = TOKEN\nauth_type = v3oidcaccesstoken\n",
    );
    const s = store(file, "oidc.example");
    expect((await errorOf(capture, () => s.resolve())).code).toBe("TokenMissing");
    s.setToken(TOKEN);
    expect(await s.resolve()).toEqual({ secret: TOKEN, token: TOKEN, extra: { auth_type: "v3oidcaccesstoken" } });
    expect(await s.usesProxy()).toBe(false);
  });
});

describe("output of every scenario above", () => {
  it("never contains a secret: not in logs (raw or scrubbed), not in errors", () => {
    expect(capture.records.length).toBeGreaterThan(5);
    expect(capture.errors.length).toBeGreaterThan(5);
    expectNoSecrets(capture, SECRETS);
  });
});
