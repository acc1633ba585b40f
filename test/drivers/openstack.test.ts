/**
 * The shared conformance suite against the test-tree OpenStack server,
 * with the real undici client end to end (no client-level mocks).
 */

import { randomUUID } from "node:crypto";
import { testDriver } from "./conformance.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer } from "../servers/openstack/server.js";

testDriver({
  name: "OPENSTACK (test-tree cloud)",
  stateTimeoutMs: 10_000,
  setup: async () => {
    const cloud = await startOpenStackServer({ bootMs: 100, stopMs: 50, deleteMs: 50 });
    const image = cloud.state.images[0]!;
    const flavor = cloud.state.flavors[0]!;
    const network = cloud.state.networks[0]!;
    return {
      driver: openStackDriver(cloud),
      image: { id: image.id, name: image.name },
      flavor: { id: flavor.id, name: flavor.name },
      networks: [{ id: network.id, name: network.name }],
      exhaustCapacity: async () => {
        cloud.state.noValidHost.add(flavor.name);
      },
      unknownNodeId: randomUUID(),
      unknownImageId: randomUUID(),
      unknownFlavorId: randomUUID(),
      teardown: () => cloud.close(),
    };
  },
});
