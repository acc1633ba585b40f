/**
 * Azure VMs → CloudNodes, from the instance view's statuses
 * (`ProvisioningState/<state>[/<code>]`, `PowerState/<state>`).
 *
 * A VM whose guest powered off reads `PowerState/stopped`: still billed, so
 * it reads `stopped` (DIRAC: Done) and cleanup deletes it. A spot VM evicted
 * with policy Deallocate reads `PowerState/deallocated`; the driver only ever
 * powers VMs off, so a deallocated spot VM was evicted: interrupted
 * (DIRAC: Aborted).
 */

import type { CloudNode, NodeFault, NodeState } from "../driver.js";
import { azureError } from "./errors.js";

const POWER_STATE_MAP: Readonly<Record<string, NodeState>> = {
  starting: "booting",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  deallocating: "stopping",
  deallocated: "stopped",
};

export interface InstanceStatus {
  readonly code?: string;
  readonly message?: string;
  readonly time?: string;
}

/** The parts of a Microsoft.Compute/virtualMachines resource the driver reads. */
export interface AzureVm {
  readonly id?: string;
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly properties?: {
    readonly vmId?: string;
    readonly provisioningState?: string;
    readonly timeCreated?: string;
    readonly priority?: string;
    readonly virtualMachineScaleSet?: { readonly id?: string };
    readonly instanceView?: { readonly statuses?: readonly InstanceStatus[] };
  };
}

/** The last path segment of an ARM id. */
export function armName(id: string | undefined): string {
  return (id ?? "").split("/").pop() ?? "";
}

function time(text: string | undefined): Date | undefined {
  const t = text ? new Date(text) : undefined;
  return t && !Number.isNaN(t.getTime()) ? t : undefined;
}

function statusOf(vm: AzureVm, kind: "ProvisioningState" | "PowerState"): InstanceStatus | undefined {
  return vm.properties?.instanceView?.statuses?.find((s) => s.code?.startsWith(`${kind}/`));
}

function stateOf(provisioning: string, power: string | undefined): NodeState {
  if (provisioning === "failed") return "error";
  if (provisioning === "deleting") return "gone";
  if (power !== undefined) return POWER_STATE_MAP[power] ?? "unknown";
  return provisioning === "creating" || provisioning === "updating" || provisioning === "succeeded"
    ? "booting"
    : "unknown";
}

/**
 * `tags`: the VM's own, over those of the scale set it belongs to (a set's VMs carry the set's).
 * Without `timeCreated` (an answer that leaves it out), the creation time is the provisioning
 * status's, else `seenAt` (when the driver first saw the VM): later than the truth, never the
 * epoch, so that no lifetime policy takes a young pilot for an old one.
 */
export function toCloudNode(
  vm: AzureVm,
  setTags: Readonly<Record<string, string>> = {},
  seenAt: Date = new Date(),
): CloudNode {
  const prov = statusOf(vm, "ProvisioningState");
  const provisioning = (prov?.code?.split("/")[1] ?? vm.properties?.provisioningState ?? "creating").toLowerCase();
  const power = statusOf(vm, "PowerState")?.code?.split("/")[1]?.toLowerCase();
  const state = stateOf(provisioning, power);
  const createdAt = time(vm.properties?.timeCreated) ?? time(prov?.time) ?? seenAt;
  const interrupted = vm.properties?.priority === "Spot" && power === "deallocated";
  // The instance view times the provisioning state by its last operation: the start when running, the power-off when stopped.
  const provTime = time(prov?.time);
  const launchedAt = state === "running" ? provTime : state === "stopped" ? createdAt : undefined;
  const stoppedAt = state === "stopped" ? provTime : undefined;
  const failure = provisioning === "failed" ? fault(prov) : undefined;
  return {
    id: vm.properties?.vmId ?? vm.name,
    name: vm.name,
    state,
    cloudState: [provisioning, power].filter((s) => s !== undefined).join("/"),
    createdAt,
    metadata: { ...setTags, ...vm.tags },
    ...(interrupted ? { interrupted } : {}),
    ...(launchedAt ? { launchedAt } : {}),
    ...(stoppedAt ? { stoppedAt } : {}),
    ...(failure ? { fault: failure } : {}),
  };
}

/** `ProvisioningState/failed/AllocationFailed` → the mapped code of AllocationFailed. */
function fault(status: InstanceStatus | undefined): NodeFault {
  const code = status?.code?.split("/")[2] ?? "ProvisioningFailed";
  const error = azureError("create", { code, message: status?.message ?? "" }, undefined);
  return { code: error.code, message: error.message };
}
