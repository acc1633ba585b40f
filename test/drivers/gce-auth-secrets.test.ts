/** GCE credentials as secrets: what is scrubbed from logs and errors, the key file's path that is not secret, key rotation and close. */

import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, type LogRecord } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import { gceDriver, testKeyPair, TEST_SERVICE_ACCOUNT } from "../servers/gce/driver-fixture.js";
import { gceAuthSuite } from "./gce-auth-setup.js";

const g = gceAuthSuite();

describe("GCE secrets", () => {
  it("no key, token or refresh token reaches a log line or an error, through retries, renewals and refusals", async () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ level: "debug", sink: (r) => records.push(r) });
    const d = await g.driver({ logger });
    g.server.inject({ call: "networks.list", kind: "rateLimit" });
    g.server.inject({ call: "networks.list", kind: "unauthorized" });
    g.server.inject({ call: "machineTypes.list", kind: "error", status: 403, reason: "forbidden" });
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
    expect((await g.driver({ options: { key_file: "" } })).capabilities.secretIsPath).toBe(true);
  });

  // Fixtures as functions: the key file is written in beforeAll, after the table is built.
  it.each([
    [
      "auth-file",
      () => ({
        options: { key_file: "" },
        credentials: async () => ({ key: TEST_SERVICE_ACCOUNT, secret: g.keyFile, extra: {} }),
      }),
    ],
    ["key-file", () => ({})],
    [
      "application-default",
      () => ({
        options: { key_file: "", credentials: "application-default" },
        deps: { env: { GOOGLE_APPLICATION_CREDENTIALS: g.keyFile } },
      }),
    ],
  ] as const)("registers the private key read with Driver_credentials = %s, and not the path", async (_mode, fx) => {
    const d = await g.driver(fx());
    await d.listNetworks();
    expect(scrubSecrets(`${keyLine()} from ${g.keyFile}`)).toBe(`[secret] from ${g.keyFile}`);
  });

  it("registers the client secret and refresh token of gcloud's application-default login", async () => {
    const home = join(g.dir, "home-adc-secrets");
    const file = join(home, ".config", "gcloud", "application_default_credentials.json");
    mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        type: "authorized_user",
        client_id: "client.apps.example",
        client_secret: "adc-client-secret-value",
        refresh_token: "1//adc-refresh-token-value",
        token_uri: g.server.tokenUri,
      }),
    );
    g.server.addRefreshToken("1//adc-refresh-token-value");
    const d = await g.driver({
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
    const d = await g.driver({
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
      g.server.addServiceAccount(email, pair.publicKey);
      writeFileSync(
        path,
        JSON.stringify({
          type: "service_account",
          client_email: email,
          private_key: pair.privateKey,
          token_uri: g.server.tokenUri,
          project_id: "grid-test",
        }),
      );
    };
    write(testKeyPair());
    const d = await g.driver({ options: { key_file: path } });
    await d.listNetworks();
    // The old key is revoked (the server knows only the new one) and the token is refused.
    write(
      generateKeyPairSync("rsa", {
        modulusLength: 2048,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      }),
    );
    g.server.inject({ call: "networks.list", kind: "unauthorized" });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
    rmSync(dirR, { recursive: true, force: true });
  });

  it("a closed driver's key and token are nobody's to scrub any more", async () => {
    const d = await gceDriver(g.server, g.keyFile);
    await d.listNetworks();
    const keyLine = testKeyPair().privateKey.split("\n")[1]!;
    expect(scrubSecrets(keyLine)).toBe("[secret]");
    await d.close();
    expect(scrubSecrets(keyLine)).toBe(keyLine);
  });
});
