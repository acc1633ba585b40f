/** The test-tree Nova's multi-create, held to what the real lab's Nova showed (the same scenario runs in test/lab/). */

import { afterAll, beforeAll, it } from "vitest";
import { runMultiCreateScenario } from "../servers/openstack/multi-create-scenario.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { passwordLogin } from "../servers/openstack/password-login.js";

let cloud: OpenStackTestServer;
let token: string;

beforeAll(async () => {
  cloud = await startOpenStackServer({ bootMs: 100, deleteMs: 50 });
  const user = cloud.state.users[0]!;
  const res = await passwordLogin(cloud.authUrl, user, "demo");
  token = res.headers.get("x-subject-token")!;
});
afterAll(async () => {
  await cloud.close();
});

it("multi-creates as Nova does: shapes, names, reservation ids, paging, networks rules, quota clipping", async () => {
  await runMultiCreateScenario({
    computeUrl: `${cloud.url}/compute/v2.1`,
    token,
    imageId: cloud.state.images[0]!.id,
    flavorId: "1",
    networkId: cloud.state.networks[0]!.id,
    stateTimeoutMs: 5_000,
  });
});
