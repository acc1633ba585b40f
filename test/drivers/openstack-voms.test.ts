/**
 * 2.0_voms: the OPENSTACK driver logs in to Keystone v2 (keystone-voms) over
 * TLS with a real RFC 3820 proxy chain as client certificate; the test
 * cloud reads the chain the TLS handshake delivered.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import type { CloudceError } from "../../src/errors.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { definedProps } from "../../src/util/defined.js";

let cloud: OpenStackTestServer;
let dir: string;
let serverCert: string;
const drivers: CloudDriver[] = [];

async function proxyPem(userDn?: string): Promise<string> {
  return (await makeProxyChain({ secondsLeft: 3600, ...(userDn ? { userDn } : {}), voms: { vo: "fedcloud.egi.eu" } }))
    .proxyPem;
}

/** The proxy is handed over in memory only: no file exists for the TLS client to read. */
function vomsDriver(proxy: string | undefined): CloudDriver {
  const d = openStackDriver(cloud, {
    options: { ex_force_auth_version: "2.0_voms", ex_tenant_name: "demo" },
    credentials: { key: undefined, secret: undefined, ...definedProps({ proxy }) },
    tuning: { ca: serverCert },
  });
  drivers.push(d);
  return d;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-voms-"));
  await promisify(execFile)("/usr/bin/openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    join(dir, "server.key"),
    "-out",
    join(dir, "server.pem"),
  ]);
  serverCert = await readFile(join(dir, "server.pem"), "utf8");
  cloud = await startOpenStackServer({
    tls: { key: await readFile(join(dir, "server.key"), "utf8"), cert: serverCert, requestCert: true },
  });
});

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await cloud?.close();
});

describe("OPENSTACK 2.0_voms (X.509 proxy client certificate)", () => {
  it("gets a scoped token with the proxy and uses the v2 catalog", async () => {
    const d = vomsDriver(await proxyPem());
    expect((await d.listFlavors()).length).toBe(3);
    expect((await d.listImages({ name: "cirros-fake" })).length).toBe(1);
    expect(cloud.count("identity POST /v2.0/tokens")).toBe(2);
    expect(cloud.count("identity GET /v2.0/tenants")).toBe(1);
  });

  it("fails with AuthFailed for a proxy of a user the site does not map", async () => {
    const d = vomsDriver(await proxyPem("/DC=org/DC=cloudce-test/O=Grid/CN=Stranger"));
    const err = (await d.listFlavors().catch((e: unknown) => e)) as CloudceError;
    expect(err.code).toBe("AuthFailed");
  });

  it("says that 2.0_voms needs secret = PROXY when no proxy is given", async () => {
    const d = vomsDriver(undefined);
    const err = (await d.listFlavors().catch((e: unknown) => e)) as CloudceError;
    expect(err.code).toBe("ProxyMissing");
    expect(err.message).toContain("secret = PROXY");
  });
});
