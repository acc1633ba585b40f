import { testDriver } from "./conformance.js";
import { startGceFixture } from "../servers/gce/driver-fixture.js";

testDriver({
  name: "GCE",
  stateTimeoutMs: 5_000,
  lowerCaseNames: true,
  setup: async () => {
    // A small page size makes the listings follow nextPageToken.
    const fx = await startGceFixture({ server: { pageSize: 2 } });
    return {
      driver: fx.driver,
      image: { id: "projects/grid-test/global/images/el9-pilot-v2", name: "el9-pilot-v2" },
      flavor: { id: "e2-small", name: "e2-small" },
      networks: [{ id: "pilots", name: "pilots" }],
      unknownNodeId: "9999999999999999999",
      unknownImageId: "projects/grid-test/global/images/no-such-image",
      unknownFlavorId: "e2-nosuch",
      exhaustCapacity: async () => {
        fx.server.cloud.capacity[fx.server.cloud.zones[0]!] = 0;
      },
      teardown: () => fx.close(),
    };
  },
});
