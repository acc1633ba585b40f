import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import localFactory from "../../src/drivers/local/index.js";
import { silentLogger } from "../../src/log.js";
import { instantiateDriver } from "../../src/drivers/registry.js";
import { testDriver } from "./conformance.js";

/** A cloud-config installing a program that runs until stopped. */
const LONG_RUNNING = [
  "#cloud-config",
  "write_files:",
  "  - path: /root/run_pilot.sh",
  "    permissions: '0755'",
  "    content: |",
  "      #!/bin/bash",
  "      echo booted",
  "      exec sleep 600",
].join("\n");

testDriver({
  name: "LOCAL",
  userData: new Uint8Array(Buffer.from(LONG_RUNNING)),
  stateTimeoutMs: 10_000,
  setup: async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cloudce-local-conf-"));
    const driver = await instantiateDriver(
      localFactory,
      {
        options: { state_dir: stateDir },
        credentials: async () => ({ extra: {} }),
        ceName: "conformance",
        logger: silentLogger,
        requestTimeoutMs: 5_000,
      },
      "LOCAL",
    );
    return {
      driver,
      image: { id: "local-el9", name: "el9-pilot" },
      flavor: { id: "local.small", name: "small" },
      networks: [{ id: "local-net", name: "loopback" }],
      unknownNodeId: "00000000-0000-4000-8000-000000000000",
      unknownImageId: "local-nosuch",
      unknownFlavorId: "local.nosuch",
      teardown: () => rm(stateDir, { recursive: true, force: true }),
    };
  },
});
