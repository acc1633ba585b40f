/** The QEMU driver passes the shared conformance suite with real QEMU processes (vm-lab image, small guests). */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe } from "vitest";
import { createQemuDriverForTest } from "./qemu-ce.js";
import { testDriver } from "../drivers/conformance.js";
import { labImageReady, scratchDir } from "./vm-env.js";

describe.skipIf(!labImageReady())("QEMU driver", () => {
  testDriver({
    name: "QEMU",
    stateTimeoutMs: 50_000,
    async setup() {
      const work = await scratchDir("conformance");
      // The VMs are destroyed within seconds: small, single-CPU guests keep the shared host usable.
      // Room for exactly the suite's three VMs: the capacity check then finds the limit reached.
      const driver = createQemuDriverForTest(join(work, "qemu"), {
        memory_mb: "256",
        cpus: "1",
        results_disk_mb: "0",
        max_instances: "3",
      });
      return {
        driver,
        image: { id: "qemu-image", name: "image" },
        flavor: { id: "qemu-flavor", name: "1cpu-256mb" },
        networks: [{ id: "qemu-net-none", name: "none" }],
        unknownNodeId: "qemu-000000000000",
        exhaustCapacity: async () => undefined,
        teardown: () => rm(work, { recursive: true, force: true }),
      };
    },
  });
});
