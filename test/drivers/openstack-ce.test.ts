/**
 * The CE with CloudType = OPENSTACK on the test-tree cloud, end to end
 * (the same scenario runs against the real lab in test/lab/).
 */

import { afterAll, beforeAll, it } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { runCeScenario } from "../servers/openstack/ce-scenario.js";
import { DEMO_CREDENTIALS, openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";

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
