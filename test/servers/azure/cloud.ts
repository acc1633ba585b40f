/**
 * The state of a test-tree Azure subscription: VMs (single or members of a
 * flexible scale set), scale sets, custom images, virtual networks, VM
 * sizes, the location's quotas and capacity, and long-running operations.
 * States follow from time, as on the other test clouds: a VM is Creating,
 * then starting, then running; powered off it is stopping then stopped;
 * deleted it is Deleting, then gone. Shapes follow Azure/azure-rest-api-specs
 * (Compute 2024-07-01, Network 2024-05-01).
 */

import { randomBytes, randomUUID } from "node:crypto";
import { definedProps } from "../../../src/util/defined.js";

export interface AzureTimings {
  /** From create until the operation succeeds and the VM runs. */
  readonly bootMs?: number;
  readonly stopMs?: number;
  readonly deleteMs?: number;
}

export interface AzureCloudOptions extends AzureTimings {
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  readonly location?: string;
  /** VMs each size can still be allocated (default unlimited). */
  readonly capacity?: Record<string, number>;
  /** Regional vCPU quota (default 1000) and VM quota (default 500). */
  readonly coreQuota?: number;
  readonly vmQuota?: number;
}

export class AzureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly details?: readonly { code: string; target?: string; message: string }[],
  ) {
    super(message);
  }
}

export interface VmRecord {
  readonly name: string;
  readonly vmId: string;
  readonly size: string;
  readonly cores: number;
  readonly tags: Record<string, string>;
  readonly createdAt: number;
  readonly body: Record<string, unknown>;
  readonly spot: boolean;
  readonly set?: string;
  /** A set member's set's tags (Azure does not copy them onto the VM). */
  readonly setTags?: Readonly<Record<string, string>>;
  failed?: { code: string; message: string };
  poweredOffAt?: number;
  deallocatedAt?: number;
  deletingAt?: number;
  /** Text of the serial log (boot diagnostics). */
  serialLog: string;
}

export interface ScaleSetRecord {
  readonly name: string;
  readonly tags: Record<string, string>;
  readonly body: Record<string, unknown>;
  capacity: number;
}

export interface OperationRecord {
  readonly id: string;
  readonly doneAt: number;
  readonly kind: string;
  error?: { code: string; message: string };
  stuck?: boolean;
}

export const VM_SIZES = [
  { name: "Standard_D2s_v5", numberOfCores: 2, memoryInMB: 8192 },
  { name: "Standard_D4s_v5", numberOfCores: 4, memoryInMB: 16384 },
  { name: "Standard_B1s", numberOfCores: 1, memoryInMB: 1024 },
];

export class AzureCloud {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly vms = new Map<string, VmRecord>();
  /** Every VM ever created, by name (for tests: nothing doubled). */
  readonly created: string[] = [];
  /** Every VM ever created, deleted ones included, by vmId. */
  readonly history = new Map<string, VmRecord>();
  readonly sets = new Map<string, ScaleSetRecord>();
  readonly operations = new Map<string, OperationRecord>();
  readonly images: { name: string; createdAt: string }[] = [
    { name: "el9-pilot-v1", createdAt: "2026-01-01T00:00:00Z" },
    { name: "el9-pilot-v2", createdAt: "2026-06-01T00:00:00Z" },
  ];
  readonly vnets: { name: string; subnets: string[] }[] = [{ name: "grid-vnet", subnets: ["pilots", "services"] }];
  capacity: Record<string, number>;
  coreQuota: number;
  vmQuota: number;
  timings: Required<AzureTimings>;

  constructor(options: AzureCloudOptions = {}) {
    this.subscriptionId = options.subscriptionId ?? "11111111-2222-4333-8444-555555555555";
    this.resourceGroup = options.resourceGroup ?? "grid-pilots";
    this.location = options.location ?? "westeurope";
    this.capacity = { ...options.capacity };
    this.coreQuota = options.coreQuota ?? 1000;
    this.vmQuota = options.vmQuota ?? 500;
    this.timings = { bootMs: options.bootMs ?? 40, stopMs: options.stopMs ?? 30, deleteMs: options.deleteMs ?? 30 };
  }

  groupId(provider: string, rest: string): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/${provider}/${rest}`;
  }

  usedCores(): number {
    return [...this.vms.values()]
      .filter((v) => !v.failed && v.deallocatedAt === undefined)
      .reduce((n, v) => n + v.cores, 0);
  }

  /** Drops VMs whose delete has finished. */
  sweep(now: number = Date.now()): void {
    for (const vm of [...this.vms.values()]) {
      if (vm.deletingAt !== undefined && now - vm.deletingAt >= this.timings.deleteMs) {
        this.vms.delete(vm.name);
        const set = vm.set ? this.sets.get(vm.set) : undefined;
        if (set) set.capacity = Math.max(0, set.capacity - 1);
      }
    }
  }

  /** Checks quotas (synchronous refusal) for `count` VMs of `size`. */
  checkQuota(size: string, count: number): void {
    const cores = VM_SIZES.find((s) => s.name === size)?.numberOfCores;
    if (cores === undefined)
      throw new AzureError(
        400,
        "InvalidParameter",
        `The requested VM size ${size} is not available in the current region.`,
        "vmSize",
      );
    this.sweep();
    if (this.usedCores() + cores * count > this.coreQuota) {
      throw new AzureError(
        409,
        "OperationNotAllowed",
        `Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Current Limit: ${this.coreQuota}.`,
        undefined,
        [{ code: "QuotaExceeded", target: "cores", message: "cores" }],
      );
    }
    if (this.vms.size + count > this.vmQuota) {
      throw new AzureError(
        409,
        "OperationNotAllowed",
        `Operation results in exceeding quota limits of virtualMachines. Current Limit: ${this.vmQuota}.`,
        undefined,
        [{ code: "QuotaExceeded", target: "virtualMachines", message: "virtualMachines" }],
      );
    }
  }

  /** Takes capacity for one VM of `size`; false when the location has none. */
  allocate(size: string): boolean {
    const left = this.capacity[size];
    if (left === undefined) return true;
    if (left <= 0) return false;
    this.capacity[size] = left - 1;
    return true;
  }

  addVm(
    name: string,
    size: string,
    tags: Record<string, string>,
    body: Record<string, unknown>,
    spot: boolean,
    set?: string,
    vmId: string = randomUUID(),
  ): VmRecord {
    const cores = VM_SIZES.find((s) => s.name === size)?.numberOfCores ?? 1;
    const setTags = set ? this.sets.get(set)?.tags : undefined;
    const vm: VmRecord = {
      name,
      vmId,
      size,
      cores,
      tags,
      createdAt: Date.now(),
      body,
      spot,
      ...definedProps({ set, setTags }),
      serialLog: "",
    };
    if (!this.allocate(size))
      vm.failed = {
        code: "AllocationFailed",
        message: "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.",
      };
    this.vms.set(name, vm);
    this.created.push(name);
    this.history.set(vm.vmId, vm);
    return vm;
  }

  /** A flexible set's VM name: `<set>_<8 characters>`. */
  memberName(set: string): string {
    return `${set}_${randomBytes(4).toString("hex")}`;
  }

  newOperation(kind: string, delayMs: number, error?: { code: string; message: string }): OperationRecord {
    const op: OperationRecord = { id: randomUUID(), doneAt: Date.now() + delayMs, kind, ...(error ? { error } : {}) };
    this.operations.set(op.id, op);
    return op;
  }

  /** The instance view's statuses of a VM now. */
  statuses(
    vm: VmRecord,
    now: number = Date.now(),
  ): { code: string; level: string; displayStatus: string; time?: string; message?: string }[] {
    const t = this.timings;
    const iso = (ms: number) => new Date(ms).toISOString();
    if (vm.failed)
      return [
        {
          code: `ProvisioningState/failed/${vm.failed.code}`,
          level: "Error",
          displayStatus: "Provisioning failed",
          message: vm.failed.message,
          time: iso(vm.createdAt),
        },
      ];
    if (vm.deletingAt !== undefined)
      return [{ code: "ProvisioningState/deleting", level: "Info", displayStatus: "Deleting" }];
    if (now - vm.createdAt < t.bootMs)
      return [
        { code: "ProvisioningState/creating", level: "Info", displayStatus: "Creating" },
        { code: "PowerState/starting", level: "Info", displayStatus: "VM starting" },
      ];
    const off = vm.deallocatedAt ?? vm.poweredOffAt;
    if (off !== undefined) {
      const done = now - off >= t.stopMs;
      const power =
        vm.deallocatedAt !== undefined ? (done ? "deallocated" : "deallocating") : done ? "stopped" : "stopping";
      return [
        {
          code: "ProvisioningState/succeeded",
          level: "Info",
          displayStatus: "Provisioning succeeded",
          time: iso(done ? off + t.stopMs : off),
        },
        { code: `PowerState/${power}`, level: "Info", displayStatus: `VM ${power}` },
      ];
    }
    return [
      {
        code: "ProvisioningState/succeeded",
        level: "Info",
        displayStatus: "Provisioning succeeded",
        time: iso(vm.createdAt + t.bootMs),
      },
      { code: "PowerState/running", level: "Info", displayStatus: "VM running" },
    ];
  }

  provisioningState(vm: VmRecord, now: number = Date.now()): string {
    return vm.failed
      ? "Failed"
      : vm.deletingAt !== undefined
        ? "Deleting"
        : now - vm.createdAt < this.timings.bootMs
          ? "Creating"
          : "Succeeded";
  }

  /** The guest powers itself off (the pilot ended): Azure shows it stopped, still allocated. */
  guestPowerOff(name: string): void {
    const vm = this.vms.get(name);
    if (vm) vm.poweredOffAt = Date.now() - this.timings.stopMs;
  }

  /** Evicts a spot VM with policy Deallocate. */
  evict(name: string): void {
    const vm = this.vms.get(name);
    if (vm) vm.deallocatedAt = Date.now() - this.timings.stopMs;
  }
}
