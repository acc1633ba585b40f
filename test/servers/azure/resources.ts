/** JSON shapes of the test Azure cloud's resources, as Resource Manager returns them. */

import { type AzureCloud, VM_SIZES, type ScaleSetRecord, type VmRecord } from "./cloud.js";

export const COMPUTE = "Microsoft.Compute";
export const NETWORK = "Microsoft.Network";

export function vmJson(cloud: AzureCloud, vm: VmRecord, view: boolean, statusOnly = false): Record<string, unknown> {
  const props = vm.body["properties"] as Record<string, unknown> | undefined;
  const { osProfile, ...rest } = props ?? {};
  return {
    id: cloud.groupId(COMPUTE, `virtualMachines/${vm.name}`),
    name: vm.name,
    type: "Microsoft.Compute/virtualMachines",
    location: cloud.location,
    tags: vm.tags,
    properties: {
      ...(statusOnly ? {} : rest),
      // customData is never returned: only the other osProfile fields are.
      ...(statusOnly || !osProfile
        ? {}
        : { osProfile: { ...(osProfile as Record<string, unknown>), customData: undefined } }),
      vmId: vm.vmId,
      provisioningState: cloud.provisioningState(vm),
      timeCreated: new Date(vm.createdAt).toISOString(),
      ...(vm.spot ? { priority: "Spot" } : {}),
      ...(vm.set
        ? { virtualMachineScaleSet: { id: cloud.groupId(COMPUTE, `virtualMachineScaleSets/${vm.set}`) } }
        : {}),
      ...(view ? { instanceView: { statuses: cloud.statuses(vm) } } : {}),
    },
  };
}

export function setJson(cloud: AzureCloud, set: ScaleSetRecord): Record<string, unknown> {
  const props = set.body["properties"] as Record<string, unknown> | undefined;
  return {
    id: cloud.groupId(COMPUTE, `virtualMachineScaleSets/${set.name}`),
    name: set.name,
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: cloud.location,
    tags: set.tags,
    sku: { ...(set.body["sku"] as Record<string, unknown>), capacity: set.capacity },
    properties: { orchestrationMode: props?.["orchestrationMode"], provisioningState: "Succeeded", uniqueId: set.name },
  };
}

export function imagesJson(cloud: AzureCloud): unknown[] {
  return cloud.images.map((i) => ({
    id: cloud.groupId(COMPUTE, `images/${i.name}`),
    name: i.name,
    location: cloud.location,
    properties: { provisioningState: "Succeeded" },
  }));
}

export function vnetsJson(cloud: AzureCloud): unknown[] {
  return cloud.vnets.map((v) => ({
    id: cloud.groupId(NETWORK, `virtualNetworks/${v.name}`),
    name: v.name,
    location: cloud.location,
    properties: {
      subnets: v.subnets.map((s) => ({
        id: cloud.groupId(NETWORK, `virtualNetworks/${v.name}/subnets/${s}`),
        name: s,
      })),
    },
  }));
}

export function subnetExists(cloud: AzureCloud, id: string): boolean {
  return cloud.vnets.some((v) =>
    v.subnets.some(
      (s) => cloud.groupId(NETWORK, `virtualNetworks/${v.name}/subnets/${s}`).toLowerCase() === id.toLowerCase(),
    ),
  );
}

export function usagesJson(cloud: AzureCloud): unknown[] {
  cloud.sweep();
  return [
    {
      name: { value: "cores", localizedValue: "Total Regional vCPUs" },
      currentValue: cloud.usedCores(),
      limit: cloud.coreQuota,
      unit: "Count",
    },
    {
      name: { value: "virtualMachines", localizedValue: "Virtual Machines" },
      currentValue: cloud.vms.size,
      limit: cloud.vmQuota,
      unit: "Count",
    },
  ];
}

export const vmSizesJson = (): unknown[] =>
  VM_SIZES.map((s) => ({ ...s, maxDataDiskCount: 4, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 0 }));
