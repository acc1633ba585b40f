/** The shared driver conformance suite against the real OpenStack lab. */

import { randomUUID } from "node:crypto";
import { testDriver } from "../drivers/conformance.js";
import { LAB, labDriver } from "./lab-env.js";

testDriver({
  name: "OPENSTACK (real lab)",
  stateTimeoutMs: LAB.stateTimeoutMs,
  setup: async () => {
    const driver = labDriver();
    const [image] = await driver.listImages({ name: LAB.image });
    const [flavor] = await driver.listFlavors({ name: LAB.flavor });
    const [network] = await driver.listNetworks({ name: LAB.network });
    if (!image || !flavor || !network)
      throw new Error("lab: cirros-fake, m1.tiny or private is missing; is the lab seeded?");
    return {
      driver,
      image: { id: image.id, name: image.name },
      flavor: { id: flavor.id, name: flavor.name },
      networks: [{ id: network.id, name: network.name }],
      unknownNodeId: randomUUID(),
      unknownImageId: randomUUID(),
      unknownFlavorId: randomUUID(),
      teardown: async () => undefined,
    };
  },
});
