/**
 * One login per process and credential: DIRAC's PilotManager builds a CE
 * object per request; fifty kills or output requests in a row, each with a
 * fresh CE object, log in to Keystone once. A revoked token is renewed once
 * for all of them, and another user or project gets a login of its own.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CE_NAME = "os-one-login.example.org";
const LOGINS = "identity POST /v3/auth/tokens";
let dir: string;
let cloud: OpenStackTestServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-one-login-"));
  await writeDemoAuth(join(dir, "cloud.auth"), CE_NAME);
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  cloud = await startOpenStackServer({ bootMs: 10, deleteMs: 10 });
  cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 200, cores: 200, ramMb: 1_000_000 });
});
afterEach(async () => {
  await cloud.close();
});

/** A fresh CE object, as PilotManager makes one per request; shut down after `use`. */
async function withCe<T>(
  use: (ce: CloudComputingElement) => Promise<T>,
  extra: Record<string, string> = {},
): Promise<T> {
  const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger, metrics: null });
  try {
    const r = await ce.setParameters({
      ...demoOpenStackOptions(cloud.authUrl, join(dir, "cloud.auth")),
      Instance_NamePrefix: "ONE_",
      MaxTotalJobs: "200",
      MaxWaitingJobs: "200",
      ...extra,
    });
    if (!r.OK) throw new Error(r.Message);
    return await use(ce);
  } finally {
    await ce.shutdown();
  }
}

it("fifty kills and fifty output requests, each by a fresh CE object, log in once", async () => {
  const refs = await withCe(async (ce) => {
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 50);
    if (!r.OK) throw new Error(r.Message);
    return r.Value;
  });
  for (const ref of refs) expect((await withCe((ce) => ce.getJobOutput(ref))).OK).toBe(true);
  for (const ref of refs) expect((await withCe((ce) => ce.killJob([ref]))).OK).toBe(true);
  expect(cloud.count("compute DELETE /servers/{id}")).toBe(50);
  expect(cloud.count(LOGINS)).toBe(1);
});

it("renews a revoked token once for every CE object, and keeps another project's login apart", async () => {
  await withCe((ce) => ce.getCEStatus());
  cloud.state.revokeAllTokens();
  await Promise.all(Array.from({ length: 5 }, () => withCe((ce) => ce.getCEStatus())));
  expect(cloud.count(LOGINS)).toBe(2);
  for (let i = 0; i < 3; i++) await withCe((ce) => ce.getCEStatus());
  expect(cloud.count(LOGINS)).toBe(2);
  // Another scope is another login.
  await withCe((ce) => ce.getCEStatus(), {
    Driver_ex_tenant_name: "demo",
    Driver_ex_domain_name: "Default",
    Driver_ex_force_service_interface: "public",
    Driver_ex_project_domain_name: "Default",
  });
  expect(cloud.count(LOGINS)).toBe(3);
});
