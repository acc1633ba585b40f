import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { CredentialStore } from "../../src/auth/index.js";
import { scrubSecrets } from "../../src/secrets.js";
import { makeProxyChain, type ProxyChain } from "./fixtures/proxy-chain.js";
import { captureLogs, errorOf, expectNoSecrets, makeTempDir, writeAuthFile } from "./helpers.js";

// Credentials of other kinds than key and secret: a cloud's default chain, a secret that is a file's path.

const capture = captureLogs();

let tmp: { dir: string; cleanup: () => Promise<void> };
let chain: ProxyChain;
let stores: CredentialStore[] = [];

function store(authFile: string, section: string): CredentialStore {
  const s = new CredentialStore({ authFile, section, logger: capture.logger });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  tmp = await makeTempDir();
  chain = await makeProxyChain({ secondsLeft: 3600, voms: { vo: "dteam" } });
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
  await tmp.cleanup();
});

describe("credentials = default-chain", () => {
  it("needs neither key nor secret, and hands the marker to the driver", async () => {
    const { dir, cleanup } = await makeTempDir();
    const file = await writeAuthFile(dir, "cloud.auth", "[DEFAULT]\ncredentials = default-chain\n");
    const store = new CredentialStore({ authFile: file, section: "ce.example.org", logger: captureLogs().logger });
    const creds = await store.resolve();
    expect(creds.key).toBeUndefined();
    expect(creds.secret).toBeUndefined();
    expect(creds.extra).toMatchObject({ credentials: "default-chain" });
    await cleanup();
  });

  // A site keeps the SDK chain as the file's default, and gives one CE its own account.
  const FILE =
    "[DEFAULT]\ncredentials = default-chain\n" +
    "[own.example]\nkey = AKIAOWN\nsecret = own-secret-value\n" +
    "[explicit.example]\ncredentials = default-chain\nkey = AKIAIGNORED\nsecret = ignored-secret-value\n" +
    "[back.example]\ncredentials = auth-file\nkey = AKIABACK\nsecret = back-secret-value\n" +
    "[plain.example]\nuser_domain_name = Default\n" +
    "[typo.example]\ncredentials = default_chain\nkey = k\nsecret = typo-secret-value\n";

  async function resolveFor(section: string): Promise<Awaited<ReturnType<CredentialStore["resolve"]>>> {
    const file = await writeAuthFile(tmp.dir, "chain.auth", FILE);
    return store(file, section).resolve();
  }

  it("lets key and secret of the CE's own section win over a credentials inherited from [DEFAULT]", async () => {
    const creds = await resolveFor("own.example");
    expect(creds).toMatchObject({ key: "AKIAOWN", secret: "own-secret-value" });
    expect(creds.extra["credentials"]).not.toBe("default-chain");
  });

  it("lets credentials set in the CE's own section win over everything", async () => {
    const chainCreds = await resolveFor("explicit.example");
    expect(chainCreds.extra["credentials"]).toBe("default-chain");
    expect(chainCreds.key).toBeUndefined();
    expect(chainCreds.secret).toBeUndefined();
    const fileCreds = await resolveFor("back.example");
    expect(fileCreds).toMatchObject({ key: "AKIABACK", secret: "back-secret-value" });
    expect(fileCreds.extra["credentials"]).not.toBe("default-chain");
  });

  it("keeps the inherited default-chain for a CE section without key or secret of its own", async () => {
    const creds = await resolveFor("plain.example");
    expect(creds.extra).toMatchObject({ credentials: "default-chain", user_domain_name: "Default" });
  });

  it("refuses an unknown credentials value in one line naming it and the choices", async () => {
    const file = await writeAuthFile(tmp.dir, "chain.auth", FILE);
    const e = await errorOf(capture, () => store(file, "typo.example").resolve());
    expect(e.code).toBe("AuthValueInvalid");
    expect(e.message).toMatch(/\[typo\.example\].*credentials.*auth-file.*default-chain/);
  });
});

describe("a secret the driver reads as the path of a file (capability secretIsPath)", () => {
  const PATH_FILE = (keyPath: string): string =>
    `[key.example]\nkey = robot@grid.example\nsecret = ${keyPath}\nclient_secret = path-client-secret-value\n` +
    "[token.example]\nsecret = TOKEN\n[proxy.example]\nkey = u\nsecret = PROXY\n";

  it("leaves the path readable, so messages can name the file; extras are still scrubbed", async () => {
    const keyPath = join(tmp.dir, "keys", "service-account.json");
    const s = store(await writeAuthFile(tmp.dir, "path.auth", PATH_FILE(keyPath)), "key.example");
    s.setSecretIsPath(true);
    expect(await s.resolve()).toMatchObject({ key: "robot@grid.example", secret: keyPath });
    expect(scrubSecrets(`cannot read the key file ${keyPath}`)).toBe(`cannot read the key file ${keyPath}`);
    expect(scrubSecrets("client_secret=path-client-secret-value")).toBe("client_secret=[secret]");
    await s.close();
  });

  it("still scrubs a token and a proxy", async () => {
    const file = await writeAuthFile(tmp.dir, "path-token.auth", PATH_FILE(join(tmp.dir, "unused.json")));
    const token = "eyJhbGciOiJSUzI1NiJ9.path-test-token.signature";
    const t = store(file, "token.example");
    t.setSecretIsPath(true);
    t.setToken(token);
    expect(await t.resolve()).toMatchObject({ secret: token, token });
    expect(scrubSecrets(`Bearer ${token}`)).toBe("Bearer [secret]");
    const p = store(file, "proxy.example");
    p.setSecretIsPath(true);
    await p.setProxy(chain.proxyPem);
    expect((await p.resolve()).proxy).toBe(chain.proxyPem);
    expect(scrubSecrets(chain.proxyKeyPem)).not.toContain(chain.proxyKeyPem.split("\n")[1]!);
    await Promise.all([t.close(), p.close()]);
  });

  it.each([
    ["$HOME/...", "$HOME/keys/gce.json"],
    ["${VAR}/...", "${HOME}/keys/gce.json"],
    ["./...", "./keys/gce.json"],
    ["../...", "../keys/gce.json"],
  ])("leaves a path written as %s readable", async (_form, keyPath) => {
    const s = store(await writeAuthFile(tmp.dir, "path-forms.auth", PATH_FILE(keyPath)), "key.example");
    s.setSecretIsPath(true);
    expect(await s.resolve()).toMatchObject({ secret: keyPath });
    expect(scrubSecrets(`file ${keyPath}`)).toBe(`file ${keyPath}`);
  });

  // Values a GCE CE may meet in the auth file that are no path: another cloud's password in [DEFAULT], say.
  it.each([
    [
      "a password in [DEFAULT]",
      "[DEFAULT]\nkey = AKIAOTHERCLOUD\nsecret = wJalrXUtnFEMI-K7MDENG-bPxRfiCY\n",
      "wJalrXUtnFEMI-K7MDENG-bPxRfiCY",
      "DEFAULT",
    ],
    [
      "a value over two lines",
      "[key.example]\nkey = k\nsecret = /first-line-of-it\n  second-line-of-it\n",
      "/first-line-of-it\nsecond-line-of-it",
      "key.example",
    ],
    [
      "a value starting with $",
      "[key.example]\nkey = k\nsecret = $ecretPassw0rd-dollar\n",
      "$ecretPassw0rd-dollar",
      "key.example",
    ],
    [
      "a value with spaces",
      "[key.example]\nkey = k\nsecret = /correct horse battery staple\n",
      "/correct horse battery staple",
      "key.example",
    ],
  ])(
    "keeps %s a secret, and refuses it in one line naming the section, never the value",
    async (_what, text, secret, section) => {
      const file = await writeAuthFile(tmp.dir, "not-a-path.auth", text);
      const s = store(file, "key.example");
      s.setSecretIsPath(true);
      const e = await errorOf(capture, () => s.resolve());
      expect(e.code).toBe("AuthValueInvalid");
      expect(e.message).toContain(`[${section}] of ${file}`);
      expect(e.message).toMatch(/secret is not a file path.*secret = \/absolute\//);
      expect(e.message).not.toContain("\n");
      await expect(s.validate()).rejects.toMatchObject({ code: "AuthValueInvalid" });
      expect(scrubSecrets(`value ${secret}`)).toBe("value [secret]");
      expectNoSecrets(capture, [secret, ...secret.split("\n")]);
    },
  );

  it("is scrubbed as any secret when the driver does not say it is a path", async () => {
    const keyPath = join(tmp.dir, "keys", "plain-secret-path.json");
    const s = store(await writeAuthFile(tmp.dir, "path-default.auth", PATH_FILE(keyPath)), "key.example");
    await s.resolve();
    expect(scrubSecrets(`secret ${keyPath}`)).toBe("secret [secret]");
    s.setSecretIsPath(true);
    await s.resolve();
    expect(scrubSecrets(`secret ${keyPath}`)).toBe(`secret ${keyPath}`);
    s.setSecretIsPath(false);
    await s.resolve();
    expect(scrubSecrets(`secret ${keyPath}`)).toBe("secret [secret]");
    await s.close();
  });
});
