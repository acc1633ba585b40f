/**
 * The create, delete and power-off handlers of the test Azure cloud: a PUT
 * of a VM or a flexible scale set is checked as Resource Manager checks it
 * (size, image, subnet, customData size, quotas), is idempotent by name, and
 * starts a long-running operation that ends when the VMs run (or failed to
 * allocate).
 */

import { type AzureCloud, AzureError, type OperationRecord } from "./cloud.js";
import { COMPUTE, setJson, subnetExists, vmJson } from "./resources.js";

type Body = Record<string, unknown>;
export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly operation?: OperationRecord;
}

/** Decoded customData may hold at most 64 KiB. */
const CUSTOM_DATA_MAX_BASE64 = 87_380;

const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Body)[k] : undefined), o);

/** Checks what a VM (or a set's VM profile) asks for; the subnet and image must exist. */
function checkProfile(cloud: AzureCloud, profile: unknown): void {
  const image = get(profile, "storageProfile", "imageReference") as Body | undefined;
  const imageId = typeof image?.["id"] === "string" ? image["id"] : undefined;
  if (
    imageId !== undefined &&
    !cloud.images.some((i) => cloud.groupId(COMPUTE, `images/${i.name}`).toLowerCase() === imageId.toLowerCase())
  ) {
    throw new AzureError(404, "ImageNotFound", `The platform image '${imageId}' is not available.`);
  }
  if (!imageId && !(image?.["publisher"] && image["offer"] && image["sku"]))
    throw new AzureError(400, "InvalidParameter", "Required parameter 'imageReference' is missing.", "imageReference");
  const customData = get(profile, "osProfile", "customData");
  if (typeof customData === "string" && customData.length > CUSTOM_DATA_MAX_BASE64)
    throw new AzureError(
      400,
      "InvalidParameter",
      "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.",
      "customData",
    );
  const nics = get(profile, "networkProfile", "networkInterfaceConfigurations") as Body[] | undefined;
  const subnet = get(nics?.[0], "properties", "ipConfigurations") as Body[] | undefined;
  const subnetId = get(subnet?.[0], "properties", "subnet", "id");
  if (typeof subnetId !== "string" || !subnetExists(cloud, subnetId))
    throw new AzureError(
      400,
      "InvalidResourceReference",
      `Resource ${String(subnetId)} referenced by resource is not found.`,
    );
}

function checkLocation(cloud: AzureCloud, body: Body): void {
  if (body["location"] !== cloud.location)
    throw new AzureError(400, "LocationRequired", `The location property is required and must be '${cloud.location}'.`);
}

export function putVm(cloud: AzureCloud, name: string, body: Body): Answer {
  checkLocation(cloud, body);
  const props = body["properties"] as Body | undefined;
  const size = String(get(props, "hardwareProfile", "vmSize") ?? "");
  checkProfile(cloud, props);
  cloud.sweep();
  const existing = cloud.vms.get(name);
  if (existing) {
    if (existing.deletingAt !== undefined)
      throw new AzureError(409, "Conflict", `The VM '${name}' is being deleted; retry once it is gone.`);
    if (get(existing.body, "properties", "osProfile", "customData") !== get(props, "osProfile", "customData")) {
      throw new AzureError(
        409,
        "PropertyChangeNotAllowed",
        "Changing property 'customData' is not allowed.",
        "customData",
      );
    }
    // A PUT of a VM that failed to provision tries again, in the size it now names; the vmId stays.
    if (!existing.failed) return { status: 200, body: vmJson(cloud, existing, false) };
  }
  cloud.checkQuota(size, 1);
  const tags = { ...(body["tags"] as Record<string, string> | undefined) };
  const vm = cloud.addVm(name, size, tags, body, props?.["priority"] === "Spot", undefined, existing?.vmId);
  const op = cloud.newOperation("create", cloud.timings.bootMs, vm.failed);
  return { status: 201, body: vmJson(cloud, vm, false), operation: op };
}

export function putScaleSet(cloud: AzureCloud, name: string, body: Body): Answer {
  checkLocation(cloud, body);
  if (get(body, "properties", "orchestrationMode") !== "Flexible")
    throw new AzureError(
      400,
      "InvalidParameter",
      "Only Flexible orchestration is supported here.",
      "orchestrationMode",
    );
  const profile = get(body, "properties", "virtualMachineProfile");
  checkProfile(cloud, profile);
  const size = String(get(body, "sku", "name") ?? "");
  const capacity = Number(get(body, "sku", "capacity") ?? 0);
  if (!Number.isInteger(capacity) || capacity < 0 || capacity > 1000)
    throw new AzureError(400, "InvalidParameter", "The capacity must be from 0 to 1000.", "sku.capacity");
  cloud.sweep();
  const existing = cloud.sets.get(name);
  const current = existing?.capacity ?? 0;
  const grow = Math.max(0, capacity - current);
  if (grow > 0) cloud.checkQuota(size, grow);
  const set = existing ?? {
    name,
    tags: { ...(body["tags"] as Record<string, string> | undefined) },
    body,
    capacity: 0,
  };
  cloud.sets.set(name, set);
  let failed: { code: string; message: string } | undefined;
  for (let i = 0; i < grow; i++) {
    const left = cloud.capacity[size];
    if (left !== undefined && left <= 0) {
      failed = {
        code: "AllocationFailed",
        message: `Allocation failed for ${grow - i} of ${grow} VMs. We do not have sufficient capacity for the requested VM size in this region.`,
      };
      break;
    }
    cloud.addVm(cloud.memberName(name), size, {}, { properties: profile }, get(profile, "priority") === "Spot", name);
    set.capacity += 1;
  }
  const op = cloud.newOperation("createSet", cloud.timings.bootMs, failed);
  return { status: existing ? 200 : 201, body: setJson(cloud, set), operation: op };
}

export function deleteVm(cloud: AzureCloud, name: string): Answer {
  cloud.sweep();
  const vm = cloud.vms.get(name);
  if (!vm) return { status: 204 };
  vm.deletingAt ??= Date.now();
  if (vm.failed) vm.deletingAt = Date.now() - cloud.timings.deleteMs;
  return { status: 202, operation: cloud.newOperation("delete", cloud.timings.deleteMs) };
}

export function deleteScaleSet(cloud: AzureCloud, name: string): Answer {
  if (!cloud.sets.has(name)) return { status: 204 };
  for (const vm of cloud.vms.values()) if (vm.set === name) vm.deletingAt ??= Date.now();
  cloud.sets.delete(name);
  return { status: 202, operation: cloud.newOperation("deleteSet", cloud.timings.deleteMs) };
}

export function powerOff(cloud: AzureCloud, name: string): Answer {
  cloud.sweep();
  const vm = cloud.vms.get(name);
  if (!vm || vm.deletingAt !== undefined)
    throw new AzureError(
      404,
      "ResourceNotFound",
      `The Resource 'Microsoft.Compute/virtualMachines/${name}' under resource group '${cloud.resourceGroup}' was not found.`,
    );
  vm.poweredOffAt ??= Date.now();
  return { status: 202, operation: cloud.newOperation("powerOff", cloud.timings.stopMs) };
}
