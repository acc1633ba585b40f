/**
 * OPENSTACK authentication methods beyond password/appcred: EGI-style OIDC
 * access tokens through OS-FEDERATION, and `Driver_cloud` (clouds.yaml and
 * secure.yaml, with the auth file's secrets taking precedence).
 */

import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenStackDriver } from "../../src/drivers/openstack/index.js";
import { cloudsYamlPaths, loadCloudsYaml } from "../../src/drivers/openstack/clouds-yaml.js";
import type { CloudDriver, DriverCredentials } from "../../src/drivers/driver.js";
import { CloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { FAST_RETRY, openStackDriver } from "../servers/openstack/driver-fixture.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";

let cloud: OpenStackTestServer;
let dir: string;
const drivers: CloudDriver[] = [];

beforeAll(async () => {
  cloud = await startOpenStackServer();
  dir = await mkdtemp(join(tmpdir(), "cloudce-os-auth-"));
});
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await cloud.close();
});

function fromYaml(
  options: Record<string, string>,
  env: NodeJS.ProcessEnv,
  creds: () => Promise<DriverCredentials>,
): CloudDriver {
  const d = createOpenStackDriver(
    { options, credentials: creds, ceName: "ce", logger: silentLogger, requestTimeoutMs: 5_000 },
    { retry: FAST_RETRY, env },
  );
  drivers.push(d);
  return d;
}

const noAuthFile = async (): Promise<DriverCredentials> => {
  throw new CloudceError("AuthFileMissing", "CloudAuth: /nowhere does not exist");
};

describe("OIDC access token (3.x_oidc_access_token)", () => {
  const oidc = {
    ex_force_auth_version: "3.x_oidc_access_token",
    ex_tenant_name: "openid",
    ex_tenant_domain_id: PROJECTS["demo"]!,
  };

  it("exchanges the token at OS-FEDERATION, then scopes to the project id", async () => {
    const d = openStackDriver(cloud, {
      options: oidc,
      credentials: { key: "egi.eu", secret: undefined, token: "oidc-access-token-1" },
    });
    drivers.push(d);
    expect((await d.listFlavors()).length).toBe(3);
    expect(cloud.count("identity POST /v3/OS-FEDERATION/identity_providers/{idp}/protocols/{protocol}/auth")).toBe(1);
  });

  it("fails with AuthFailed for a token the IdP does not know, without echoing it", async () => {
    const d = openStackDriver(cloud, {
      options: oidc,
      credentials: { key: "egi.eu", secret: undefined, token: "expired-oidc-token-99" },
    });
    drivers.push(d);
    const err = (await d.listFlavors().catch((e: unknown) => e)) as CloudceError;
    expect(err.code).toBe("AuthFailed");
    expect(err.message).not.toContain("expired-oidc-token-99");
  });

  it("requires the protocol and the project id", () => {
    const build = (options: Record<string, string>) => () =>
      openStackDriver(cloud, { options: { ...oidc, ...options } });
    expect(build({ ex_tenant_name: "" })).toThrow(/Driver_ex_tenant_name: required with 3.x_oidc_access_token/);
  });
});

describe("clouds.yaml (Driver_cloud)", () => {
  async function writeClouds(sub: string, clouds: string, secure?: string): Promise<NodeJS.ProcessEnv> {
    const base = join(dir, sub, "openstack");
    await mkdir(base, { recursive: true });
    await writeFile(join(base, "clouds.yaml"), clouds);
    if (secure !== undefined) await writeFile(join(base, "secure.yaml"), secure);
    return { XDG_CONFIG_HOME: join(dir, sub), HOME: join(dir, sub) };
  }

  it("searches ./clouds.yaml, the user config and /etc, or OS_CLIENT_CONFIG_FILE only", () => {
    expect(cloudsYamlPaths({ HOME: "/home/u" }, "/srv")).toEqual([
      "/srv/clouds.yaml",
      "/home/u/.config/openstack/clouds.yaml",
      "/etc/openstack/clouds.yaml",
    ]);
    expect(cloudsYamlPaths({ OS_CLIENT_CONFIG_FILE: "c.yaml" }, "/srv")).toEqual(["/srv/c.yaml"]);
  });

  it("takes URL, project, domain, region and the password (from secure.yaml) for a password cloud", async () => {
    const env = await writeClouds(
      "pw",
      `clouds:\n  site:\n    region_name: RegionOne\n    auth:\n      auth_url: ${cloud.authUrl}/v3\n      username: demo\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n`,
      "clouds:\n  site:\n    auth:\n      password: demo-password-1\n",
    );
    const d = fromYaml({ cloud: "site" }, env, noAuthFile);
    expect(d.capabilities.requiresCredentials).toBe(false);
    expect((await d.listNetworks({ name: "private" })).length).toBe(1);
  });

  it("lets the auth file's secret and the CE's Driver_ options win", async () => {
    const env = await writeClouds(
      "win",
      `clouds:\n  site:\n    auth:\n      auth_url: http://127.0.0.1:9/\n      username: demo\n      password: stale-password\n      project_name: demo\n`,
    );
    const d = fromYaml({ cloud: "site", ex_force_auth_url: cloud.authUrl }, env, async () => ({
      secret: "demo-password-1",
      extra: {},
    }));
    expect((await d.listFlavors()).length).toBe(3);
  });

  it("supports application credentials", async () => {
    const env = await writeClouds(
      "ac",
      `clouds:\n  robot:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: ${cloud.authUrl}\n      application_credential_id: appcred0000000000000000000000001\n      application_credential_secret: robot-secret-1\n`,
    );
    expect((await fromYaml({ cloud: "robot" }, env, noAuthFile).listFlavors()).length).toBe(3);
  });

  it("names the file and the clouds it has when the cloud is missing", async () => {
    const env = await writeClouds("miss", "clouds:\n  a: {}\n  b: {}\n");
    expect(() => loadCloudsYaml("c", env, "/nonexistent")).toThrow(
      /Driver_cloud: .*clouds.yaml has no cloud 'c' \(it has: a, b\)/,
    );
    expect(() =>
      loadCloudsYaml("c", { HOME: join(dir, "none"), XDG_CONFIG_HOME: join(dir, "none") }, "/nonexistent"),
    ).toThrow(/no clouds.yaml found/);
  });

  it("refuses an auth_type it cannot do", async () => {
    const env = await writeClouds(
      "kerb",
      "clouds:\n  k:\n    auth_type: v3kerberos\n    auth:\n      auth_url: http://127.0.0.1:5000\n",
    );
    expect(() => loadCloudsYaml("k", env, "/nonexistent")).toThrow(/auth_type 'v3kerberos'/);
  });
});
