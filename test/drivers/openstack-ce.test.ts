/**
 * The CE with CloudType = OPENSTACK on the test-tree cloud, end to end
 * (the same scenario runs against the real lab in test/lab/).
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { runCeScenario } from "../servers/openstack/ce-scenario.js";
import { DEMO_CREDENTIALS, openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { checkKeyedSubmission } from "./keyed-submission.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

let cloud: OpenStackTestServer;
let driver: CloudDriver;

beforeAll(async () => {
  cloud = await startOpenStackServer({ bootMs: 100, stopMs: 50, deleteMs: 50 });
  driver = openStackDriver(cloud);
});
afterAll(async () => {
  await driver.close();
  await cloud.close();
});

it("submits, watches, stops, reads, kills and cleans up pilots through the CE", async () => {
  await runCeScenario({
    authUrl: cloud.authUrl,
    user: DEMO_CREDENTIALS.key!,
    password: DEMO_CREDENTIALS.secret!,
    project: "demo",
    image: "cirros-fake",
    flavor: "m1.tiny",
    network: "private",
    driver,
    stateTimeoutMs: 10_000,
    maxInstances: 10,
  });
  // The CE resolved names once and asked Nova for its limits.
  if (cloud.count("compute GET /limits") === 0) throw new Error("available() did not consult GET /limits");
});

it("scrubs the auth file's password from output", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-os-ce-"));
  const ce = new CloudComputingElement("os-ce.example.org", { logger: silentLogger });
  try {
    await writeDemoAuth(join(dir, "cloud.auth"), "os-ce.example.org");
    await ce.setParameters({
      ...demoOpenStackOptions(cloud.authUrl, join(dir, "cloud.auth")),
    });
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    expect(scrubSecrets(`password ${DEMO_CREDENTIALS.secret!}`)).toBe("password [secret]");
  } finally {
    await ce.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
});

it.each(["auto", "off"])(
  "a keyed submission is found again by its key, with its stamps (Driver_ex_multi_create = %s)",
  async (multiCreate) => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-os-key-"));
    const ce = new CloudComputingElement("os-key.example.org", { logger: silentLogger });
    try {
      await writeDemoAuth(join(dir, "cloud.auth"), "os-key.example.org");
      await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
      await ce.setParameters({
        ...demoOpenStackOptions(cloud.authUrl, join(dir, "cloud.auth")),
        Driver_ex_multi_create: multiCreate,
      });
      await checkKeyedSubmission(ce, join(dir, "pilot.sh"), 3);
    } finally {
      await ce.shutdown();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
