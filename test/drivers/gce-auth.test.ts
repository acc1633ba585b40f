/** GCE credentials: service-account keys (JWT bearer to the key's token_uri), the auth file, application-default credentials, the metadata server. */

import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TEST_SERVICE_ACCOUNT } from "../servers/gce/driver-fixture.js";
import { gceAuthSuite } from "./gce-auth-setup.js";

const g = gceAuthSuite();

const claimsOf = (assertion: string) =>
  JSON.parse(Buffer.from(assertion.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

describe("GCE service-account keys", () => {
  it("posts a signed JWT to the key file's token_uri, and keeps the token for many calls", async () => {
    g.server.reset();
    const d = await g.driver();
    await d.listNetworks();
    await d.listFlavors();
    await d.listNetworks();
    expect(g.server.calls["token"]).toBe(1);
    const form = new URLSearchParams(String(g.server.requests.find((r) => r.call === "token")!.body));
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    expect(claimsOf(form.get("assertion")!)).toMatchObject({
      iss: TEST_SERVICE_ACCOUNT,
      aud: g.server.tokenUri,
      scope: "https://www.googleapis.com/auth/compute",
    });
    // The project comes from the key file when Driver_project is not set.
    expect(g.server.requests.find((r) => r.call === "networks.list")!.path).toContain("/projects/grid-test/");
  });

  it("a key the token endpoint refuses is AuthFailed, with the endpoint's reason and no key material", async () => {
    const other = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const path = join(g.dir, "revoked.json");
    writeFileSync(
      path,
      JSON.stringify({
        type: "service_account",
        client_email: TEST_SERVICE_ACCOUNT,
        private_key: other.privateKey,
        token_uri: g.server.tokenUri,
        project_id: "grid-test",
      }),
    );
    const d = await g.driver({ options: { key_file: path } });
    const err = await d.listNetworks().catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: "AuthFailed", message: expect.stringContaining("Invalid JWT Signature") });
    expect((err as Error).message).not.toContain("PRIVATE KEY");
    expect((err as Error).message).toContain(TEST_SERVICE_ACCOUNT);
  });

  it("names the option and the file when the key file is missing or not a key", async () => {
    const missing = await g.driver({ options: { key_file: join(g.dir, "nope.json") } });
    await expect(missing.listNetworks()).rejects.toMatchObject({
      code: "AuthFileMissing",
      message: expect.stringMatching(/^Driver_key_file: .*nope\.json/),
    });
    writeFileSync(join(g.dir, "bad.json"), "not json");
    const bad = await g.driver({ options: { key_file: join(g.dir, "bad.json") } });
    await expect(bad.listNetworks()).rejects.toMatchObject({
      code: "AuthFileUnreadable",
      message: expect.stringContaining("is not JSON"),
    });
    writeFileSync(join(g.dir, "partial.json"), JSON.stringify({ type: "service_account", client_email: "x@y" }));
    const partial = await g.driver({ options: { key_file: join(g.dir, "partial.json") } });
    await expect(partial.listNetworks()).rejects.toMatchObject({
      message: expect.stringContaining("lacks private_key"),
    });
  });

  it("needs no auth file with Driver_key_file, and does with the auth-file default", async () => {
    expect((await g.driver()).capabilities.requiresCredentials).toBe(false);
    const viaAuth = await g.driver({ options: { key_file: "" } });
    expect(viaAuth.capabilities.requiresCredentials).not.toBe(false);
  });
});

describe("GCE credentials from the auth file", () => {
  it("reads the key file named by secret, with key = the account's e-mail", async () => {
    const d = await g.driver({
      options: { key_file: "" },
      credentials: async () => ({ key: TEST_SERVICE_ACCOUNT, secret: g.keyFile, extra: {} }),
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });

  it("refuses a key that is not the key file's client_email", async () => {
    const d = await g.driver({
      options: { key_file: "" },
      credentials: async () => ({ key: "someone@else.iam.gserviceaccount.com", secret: g.keyFile, extra: {} }),
    });
    await expect(d.listNetworks()).rejects.toMatchObject({
      code: "AuthFailed",
      message: expect.stringContaining("client_email"),
    });
  });

  it("credentials = default-chain in the section means application-default credentials", async () => {
    const d = await g.driver({
      options: { key_file: "" },
      credentials: async () => ({ extra: { credentials: "default-chain" } }),
      deps: { env: { GOOGLE_APPLICATION_CREDENTIALS: g.keyFile } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });
});

describe("GCE application-default credentials and the metadata server", () => {
  it("uses GOOGLE_APPLICATION_CREDENTIALS", async () => {
    const d = await g.driver({
      options: { key_file: "", credentials: "application-default" },
      deps: { env: { GOOGLE_APPLICATION_CREDENTIALS: g.keyFile } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });

  it("uses gcloud's application-default login (authorized_user, refresh token)", async () => {
    const home = join(g.dir, "home");
    mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
    writeFileSync(
      join(home, ".config", "gcloud", "application_default_credentials.json"),
      JSON.stringify({
        type: "authorized_user",
        client_id: "client.apps.example",
        client_secret: "client-secret-value",
        refresh_token: "1//refresh-token-value",
        token_uri: g.server.tokenUri,
      }),
    );
    g.server.addRefreshToken("1//refresh-token-value");
    const d = await g.driver({
      options: { key_file: "", credentials: "application-default", project: "grid-test" },
      deps: { env: { HOME: home } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
  });

  it("falls back to the metadata server, which also names the project", async () => {
    const d = await g.driver({
      options: { key_file: "", credentials: "application-default" },
      deps: { env: { HOME: join(g.dir, "empty-home"), GCE_METADATA_HOST: g.server.metadataHost } },
    });
    expect((await d.listNetworks()).length).toBeGreaterThan(0);
    expect(g.server.requests.some((r) => r.call === "metadata" && r.path.endsWith("/token"))).toBe(true);
  });

  it("Driver_credentials = metadata off GCE is one clear line", async () => {
    const d = await g.driver({
      options: { key_file: "", credentials: "metadata", project: "grid-test" },
      deps: { env: { GCE_METADATA_HOST: "127.0.0.1:9" } },
    });
    await expect(d.listNetworks()).rejects.toMatchObject({
      code: "AuthFailed",
      message: expect.stringContaining("only on a GCE VM"),
    });
  });
});
