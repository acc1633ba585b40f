import { testDriver } from "./conformance.js";
import { NAMESPACE, startKubeFixture, testManifest } from "../servers/kubernetes/driver-fixture.js";

testDriver({
  name: "KUBERNETES",
  stateTimeoutMs: 10_000,
  lowerCaseNames: true,
  userData: testManifest("echo pilot started\nsleep 30\n"),
  setup: async () => {
    // A small page size makes the listings follow continue tokens.
    const fx = await startKubeFixture({
      options: { page_size: "2", images: "el9-pilot=registry.example.org/dirac/pilot:el9" },
    });
    return {
      driver: fx.driver,
      image: { id: "registry.example.org/dirac/pilot:el9", name: "el9-pilot" },
      flavor: { id: "1cpu-2gb", name: "1cpu-2gb" },
      networks: [],
      unknownNodeId: "conf-never-issued-00000000",
      // No unknownImageId: a pod with any image is created, and the node pulls (and fails) it later.
      unknownFlavorId: "one-cpu",
      exhaustCapacity: async () => {
        fx.server.cluster.create("resourcequotas", NAMESPACE, {
          metadata: { name: "pilots" },
          spec: { hard: { pods: "0" } },
        });
      },
      teardown: () => fx.close(),
    };
  },
});
