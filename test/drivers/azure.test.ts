import { testDriver } from "./conformance.js";
import { startAzureFixture } from "../servers/azure/driver-fixture.js";

const NETWORK =
  "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/grid-pilots/providers/Microsoft.Network/virtualNetworks/grid-vnet/subnets/pilots";
const IMAGE =
  "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/grid-pilots/providers/Microsoft.Compute/images/el9-pilot-v2";

for (const scaleSet of [false, true]) {
  testDriver({
    name: scaleSet ? "AZURE (scale sets)" : "AZURE",
    stateTimeoutMs: 5_000,
    // Azure VM names take no '_': the suite then names its VMs conf<run>-….
    lowerCaseNames: true,
    setup: async () => {
      // A small page size makes the listings follow nextLink.
      const fx = await startAzureFixture({ server: { pageSize: 2 }, options: scaleSet ? { scale_set: "true" } : {} });
      return {
        driver: fx.driver,
        image: { id: IMAGE, name: "el9-pilot-v2" },
        flavor: { id: "Standard_D2s_v5", name: "Standard_D2s_v5" },
        networks: [{ id: NETWORK, name: "grid-vnet/pilots" }],
        unknownNodeId: "00000000-0000-4000-8000-000000000000",
        unknownImageId: IMAGE.replace("el9-pilot-v2", "no-such-image"),
        unknownFlavorId: "Standard_NoSuch_v9",
        exhaustCapacity: async () => {
          fx.server.cloud.capacity["Standard_D2s_v5"] = 0;
        },
        teardown: () => fx.close(),
      };
    },
  });
}
