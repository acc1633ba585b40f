/** GCE credentials: service-account keys (JWT bearer to the key's token_uri), the auth file, application-default credentials, the metadata server. */

import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import { gceDriver, testKeyPair, TEST_SERVICE_ACCOUNT, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer } from "../servers/gce/server.js";

let server: GceServer;
let dir: string;
let keyFile: string;
const drivers: CloudDriver[] = [];

beforeAll(async () => {
  server = await startGceServer();
  dir = mkdtempSync(join(tmpdir(), "cloudce-gce-auth-"));
  keyFile = writeKeyFile(server, dir);
});

afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function driver(fx: Parameters<typeof gceDriver>[2] = {}): Promise<CloudDriver> {
  const d = await gceDriver(server, keyFile, fx);
  drivers.push(d);
  return d;
}

const claimsOf = (assertion: string) =>
  JSON.parse(Buffer.from(assertion.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

describe("GCE service-account keys", () => {
  it("posts a signed JWT to the key file's token_uri, and keeps the token for many calls", async () => {
    server.reset();
    const d = await driver();
    await d.listNetworks();
    await d.listFlavors();
    await d.listNetworks();
    expect(server.calls["token"]).toBe(1);
    const form = new URLSearchParams(String(server.requests.find((r) => r.call === "token")!.body));
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    expect(claimsOf(form.get("assertion")!)).toMatchObject({
      iss: TEST_SERVICE_ACCOUNT,
      aud: server.tokenUri,
      scope: "https://www.googleapis.com/auth/compute",
    });
    // The project comes from the key file when Driver_project is not set.
    expect(server.requests.find((r) => r.call === "networks.list")!.path).toContain("/projects/grid-test/");
  });

  it("a key the token endpoint refuses is AuthFailed, with the endpoint's reason and no key material", async () => {
    const other = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const path = join(dir, "revoked.json");
    writeFileSync(
      path,
      JSON.stringify({
        type: "service_account",
        client_email: TEST_SERVICE_ACCOUNT,
        private_key: other.privateKey,
        token_uri: server.tokenUri,
        project_id: "grid-test",
      }),
    );
    const d = await driver({ options: { key_file: path } });
    const err = await d.listNetworks().catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: "AuthFailed", message: expect.stringContaining("Invalid JWT Signature") });
    expect((err as Error).message).not.toContain("PRIVATE KEY");
    expect((err as Error).message).toContain(TEST_SERVICE_ACCOUNT);
  });

  it("names the option and the file when the key file is missing or not a key", async () => {
    const missing = await driver({ options: { key_file: join(dir, "nope.json") } });
    await expect(missing.listNetworks()).rejects.toMatchObject({
      code: "AuthFileMissing",
      message: expect.stringMatching(/^Driver_key_file: .*nope\.json/),
    });
    writeFileSync(join(dir, "bad.json"), "not json");
    const bad = await driver({ options: { key_file: join(dir, "bad.json") } });
    await expect(bad.listNetworks()).rejects.toMatchObject({
      code: "AuthFileUnreadable",
      message: expect.stringContaining("is not JSON"),
    });
    writeFileSync(join(dir, "partial.json"), JSON.stringify({ type: "service_account", client_email: "x@y" }));
    const partial = await driver({ options: { key_file: join(dir, "partial.json") } });
    await expect(partial.listNetworks()).rejects.toMatchObject({
      message: expect.stringContaining("lacks private_key"),
    });
  });

  it("needs no auth file with Driver_key_file, and does with the auth-file default", async () => {
    expect((await driver()).capabilities.requiresCredentials).toBe(false);
    const viaAuth = await driver({ options: { key_file: "" } });
    expect(viaAuth.capabilities.requiresCredentials).not.toBe(false);
  });
});

describe("GCE credentials from the auth file", () => {
  it("reads the key file named by secret, with key = the account's e-mail", async () => {
    const d = await driver({
      options: { key_file: "" },
      credentials: async () => ({ key: TEST_SERVICE_ACCOUNT, secret: keyFile, extra: {} }),
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });

  it("refuses a key that is not the key file's client_email", async () => {
    const d = await driver({
      options: { key_file: "" },
      credentials: async () => ({ key: "someone@else.iam.gserviceaccount.com", secret: keyFile, extra: {} }),
    });
    await expect(d.listNetworks()).rejects.toMatchObject({
      code: "AuthFailed",
      message: expect.stringContaining("client_email"),
    });
  });

  it("credentials = default-chain in the section means application-default credentials", async () => {
    const d = await driver({
      options: { key_file: "" },
      credentials: async () => ({ extra: { credentials: "default-chain" } }),
      deps: { env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });
});

describe("GCE application-default credentials and the metadata server", () => {
  it("uses GOOGLE_APPLICATION_CREDENTIALS", async () => {
    const d = await driver({
      options: { key_file: "", credentials: "application-default" },
      deps: { env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });

  it("uses gcloud's application-default login (authorized_user, refresh token)", async () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
    writeFileSync(
      join(home, ".config", "gcloud", "application_default_credentials.json"),
      JSON.stringify({
        type: "authorized_user",
        client_id: "client.apps.example",
        client_secret: "client-secret-value",
        refresh_token: "1//refresh-token-value",
        token_uri: server.tokenUri,
      }),
    );
    server.addRefreshToken("1//refresh-token-value");
    const d = await driver({
      options: { key_file: "", credentials: "application-default", project: "grid-test" },
      deps: { env: { HOME: home } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });

  it("falls back to the metadata server, which also names the project", async () => {
    const d = await driver({
      options: { key_file: "", credentials: "application-default" },
      deps: { env: { HOME: join(dir, "empty-home"), GCE_METADATA_HOST: server.metadataHost } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
    expect(server.requests.some((r) => r.call === "metadata" && r.path.endsWith("/token"))).toBe(true);
  });

  it("Driver_credentials = metadata off GCE is one clear line", async () => {
    const d = await driver({
      options: { key_file: "", credentials: "metadata", project: "grid-test" },
      deps: { env: { GCE_METADATA_HOST: "127.0.0.1:9" } },
    });
    await expect(d.listNetworks()).rejects.toMatchObject({
      code: "AuthFailed",
      message: expect.stringContaining("only on a GCE VM"),
    });
  });
});

describe("GCE secrets", () => {
  it("no key, token or refresh token reaches a log line or an error, through retries, renewals and refusals", async () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ level: "debug", sink: (r) => records.push(r) });
    const d = await driver({ logger });
    server.inject({ call: "networks.list", kind: "rateLimit" });
    server.inject({ call: "networks.list", kind: "unauthorized" });
    server.inject({ call: "machineTypes.list", kind: "error", status: 403, reason: "forbidden" });
    await d.listNetworks();
    const refused = await d.listFlavors().catch((e: Error) => e.message);
    expect(records.length).toBeGreaterThan(0);
    const text = [...records.map((r) => `${r.msg} ${JSON.stringify(r.fields)}`), String(refused)].join("\n");
    const keyBody = testKeyPair().privateKey.split("\n")[1]!;
    for (const secret of ["ya29.", "PRIVATE KEY", keyBody, "Bearer"]) expect(text).not.toContain(secret);
  });
});

describe("GCE key files: the contents are secrets, the path is not", () => {
  const keyLine = (): string => testKeyPair().privateKey.split("\n")[1]!;

  it("says so to the CE: the auth file's secret is a path", async () => {
    expect((await driver({ options: { key_file: "" } })).capabilities.secretIsPath).toBe(true);
  });

  // Fixtures as functions: the key file is written in beforeAll, after the table is built.
  it.each([
    [
      "auth-file",
      () => ({
        options: { key_file: "" },
        credentials: async () => ({ key: TEST_SERVICE_ACCOUNT, secret: keyFile, extra: {} }),
      }),
    ],
    ["key-file", () => ({})],
    [
      "application-default",
      () => ({
        options: { key_file: "", credentials: "application-default" },
        deps: { env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile } },
      }),
    ],
  ] as const)("registers the private key read with Driver_credentials = %s, and not the path", async (_mode, fx) => {
    const d = await driver(fx());
    await d.listNetworks();
    expect(scrubSecrets(`${keyLine()} from ${keyFile}`)).toBe(`[secret] from ${keyFile}`);
  });

  it("registers the client secret and refresh token of gcloud's application-default login", async () => {
    const home = join(dir, "home-adc-secrets");
    const file = join(home, ".config", "gcloud", "application_default_credentials.json");
    mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        type: "authorized_user",
        client_id: "client.apps.example",
        client_secret: "adc-client-secret-value",
        refresh_token: "1//adc-refresh-token-value",
        token_uri: server.tokenUri,
      }),
    );
    server.addRefreshToken("1//adc-refresh-token-value");
    const d = await driver({
      options: { key_file: "", credentials: "application-default", project: "grid-test" },
      deps: { env: { HOME: home } },
    });
    await d.listNetworks();
    expect(scrubSecrets(`adc-client-secret-value 1//adc-refresh-token-value ${file}`)).toBe(
      `[secret] [secret] ${file}`,
    );
  });
});

describe("GCE auth-file secrets that are no file path", () => {
  it.each([
    ["a password", "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"],
    ["a value over two lines", "/first-line-of-it\nsecond-line-of-it"],
    ["a value starting with $", "$ecretPassw0rd-dollar"],
    ["a bare relative path", "keys/gce-pilots.json"],
  ])("refuses %s without echoing it, and says what to write", async (_what, secret) => {
    const d = await driver({
      options: { key_file: "" },
      credentials: async () => ({ key: TEST_SERVICE_ACCOUNT, secret, extra: {} }),
    });
    const err = (await d.listNetworks().catch((e: unknown) => e)) as { code: string; message: string };
    expect(err).toMatchObject({
      code: "AuthValueInvalid",
      message: expect.stringMatching(/^CloudAuth secret: the value is not a file path.*secret = \/.*Driver_key_file/),
    });
    for (const part of [secret, ...secret.split("\n")]) expect(err.message).not.toContain(part);
    expect(err.message).not.toContain("\n");
  });
});

describe("GCE key rotation and close", () => {
  it("reads the key file again for a new token, so a rotated key is picked up", async () => {
    const dirR = mkdtempSync(join(tmpdir(), "cloudce-gce-rotate-"));
    const path = join(dirR, "key.json");
    const email = "rotating@grid-test.iam.gserviceaccount.com";
    const write = (pair: { privateKey: string; publicKey: string }): void => {
      server.addServiceAccount(email, pair.publicKey);
      writeFileSync(
        path,
        JSON.stringify({
          type: "service_account",
          client_email: email,
          private_key: pair.privateKey,
          token_uri: server.tokenUri,
          project_id: "grid-test",
        }),
      );
    };
    write(testKeyPair());
    const d = await driver({ options: { key_file: path } });
    await d.listNetworks();
    // The old key is revoked (the server knows only the new one) and the token is refused.
    write(
      generateKeyPairSync("rsa", {
        modulusLength: 2048,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      }),
    );
    server.inject({ call: "networks.list", kind: "unauthorized" });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
    rmSync(dirR, { recursive: true, force: true });
  });

  it("a closed driver's key and token are nobody's to scrub any more", async () => {
    const d = await gceDriver(server, keyFile);
    await d.listNetworks();
    const keyLine = testKeyPair().privateKey.split("\n")[1]!;
    expect(scrubSecrets(keyLine)).toBe("[secret]");
    await d.close();
    expect(scrubSecrets(keyLine)).toBe(keyLine);
  });
});
