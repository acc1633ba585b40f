/** Seeds an Azure test cloud's VMs straight into its state, named and tagged as the AZURE driver makes them. */

import { randomUUID } from "node:crypto";
import type { AzureCloud, VmRecord } from "../test/servers/azure/cloud.js";
import type { SeedSpec } from "./cloud-protocol.js";
import { vms } from "./seed.js";

/** Returns the VMs' ids (vmId) in spec order. */
export function seedAzure(cloud: AzureCloud, spec: SeedSpec): string[] {
  const now = Date.now();
  return vms(spec).map((vm) => {
    const record: VmRecord = {
      name: vm.name,
      vmId: randomUUID(),
      size: "Standard_D2s_v5",
      cores: 2,
      tags: vm.metadata,
      // A booting VM was created just now: the test cloud's states follow from the time since creation.
      createdAt: vm.state === "booting" ? now : vm.created,
      body: {},
      spot: false,
      serialLog: "",
      ...(vm.state === "stopped" ? { poweredOffAt: vm.created + 60_000 } : {}),
    };
    cloud.vms.set(record.name, record);
    cloud.history.set(record.vmId, record);
    return record.vmId;
  });
}
