/**
 * The simulated GCE project behind the test server: images, machine types,
 * networks, a region with quotas, zones with a capacity, instances whose
 * status moves on with the clock (PROVISIONING → STAGING → RUNNING,
 * STOPPING → TERMINATED, deleted → gone), and zone/region operations that go
 * PENDING → RUNNING → DONE, with `error` and `perLocationStatus` as GCE
 * reports them. Protocol-free: routes.ts maps requests onto it.
 */

import { realClock, type TestClock } from "./clock.js";
import type {
  GceCloudOptions,
  GceImage,
  GceMachineType,
  GceTimings,
  InstanceRecord,
  OperationRecord,
} from "./records.js";
import { definedProps } from "../../../src/util/defined.js";

const DEFAULT_IMAGES: readonly Omit<GceImage, "project">[] = [
  { name: "el9-pilot-v1", family: "el9-pilot", creationTimestamp: "2025-10-01T00:00:00.000-07:00" },
  { name: "el9-pilot-v2", family: "el9-pilot", creationTimestamp: "2025-12-01T00:00:00.000-07:00" },
];

export class GceCloud {
  readonly project: string;
  readonly region: string;
  readonly zones: readonly string[];
  readonly clock: TestClock;
  readonly images: GceImage[];
  readonly machineTypes: GceMachineType[] = [
    { name: "e2-small", guestCpus: 2, memoryMb: 2048 },
    { name: "e2-standard-4", guestCpus: 4, memoryMb: 16384 },
  ];
  readonly networks = ["default", "pilots"];
  readonly instances = new Map<string, InstanceRecord>();
  /** Every instance ever created, deleted ones included (for tests that count what was made). */
  readonly history = new Map<string, InstanceRecord>();
  readonly operations = new Map<string, OperationRecord>();
  readonly capacity: Record<string, number>;
  readonly quotas: Record<string, number>;
  /** Listings of its zone that a new instance is missing from (GCE's lists may lag behind an operation). */
  listLag = 0;
  /** Refuse list filters with regular expressions on several fields (as GCE's filter reference warns). */
  regexOnOneField = false;
  /** requestId → operation name: a repeated request is the same request. */
  readonly requests = new Map<string, string>();
  private readonly timings: Required<GceTimings>;
  private nextId = 4_000_000_000_000_000_000n;

  constructor(options: GceCloudOptions = {}) {
    this.project = options.project ?? "grid-test";
    this.region = options.region ?? "europe-west1";
    this.zones = options.zones ?? [`${this.region}-b`, `${this.region}-c`];
    this.clock = options.clock ?? realClock;
    this.images = DEFAULT_IMAGES.map((i) => ({ ...i, project: this.project }));
    this.capacity = { ...options.capacity };
    this.quotas = { INSTANCES: 1000, CPUS: 4000, PREEMPTIBLE_CPUS: 0, IN_USE_ADDRESSES: 1000, ...options.quotas };
    this.timings = {
      pendingMs: options.pendingMs ?? 20,
      runningMs: options.runningMs ?? 20,
      bootMs: options.bootMs ?? 50,
      stopMs: options.stopMs ?? 30,
    };
  }

  newId(): string {
    this.nextId += BigInt(1 + Math.floor(Math.random() * 1000));
    return this.nextId.toString();
  }

  /** Applies every transition that is due. */
  tick(): void {
    const now = this.clock.now();
    for (const op of this.operations.values()) {
      if (op.act && now >= op.runningAt) {
        const act = op.act;
        op.act = undefined;
        act();
      }
    }
    for (const [id, i] of this.instances) {
      while (i.transition && now >= i.transition.at) {
        const { to } = i.transition;
        i.transition = undefined;
        if (to === "GONE") {
          this.instances.delete(id);
          break;
        }
        i.status = to;
        if (to === "RUNNING") i.lastStart = now;
        if (to === "TERMINATED") i.lastStop = now;
        if (to === "STAGING") i.transition = { to: "RUNNING", at: now + this.timings.bootMs / 2 };
        if (to === "RUNNING")
          i.serial += `[    0.000000] Linux version 5.14.0 (pilot ${i.name})\ncloud-init: modules:final done\n`;
      }
    }
  }

  /** Never DONE before it acted: a pause between a tick and this look must not show a DONE operation without its VMs. */
  operationStatus(op: OperationRecord): "PENDING" | "RUNNING" | "DONE" {
    const now = this.clock.now();
    if (op.act) return now >= op.runningAt ? "RUNNING" : "PENDING";
    return now >= op.doneAt ? "DONE" : now >= op.runningAt ? "RUNNING" : "PENDING";
  }

  /** A new operation; `stuck` keeps it RUNNING for ever. */
  startOperation(fields: {
    operationType: string;
    zone?: string;
    region?: string;
    targetId?: string;
    act?: () => void;
    stuck?: boolean;
  }): OperationRecord {
    const now = this.clock.now();
    const runningAt = now + this.timings.pendingMs;
    const op: OperationRecord = {
      name: `operation-${now}-${this.newId().slice(-10)}`,
      id: this.newId(),
      operationType: fields.operationType,
      ...definedProps({ zone: fields.zone, region: fields.region, targetId: fields.targetId, act: fields.act }),
      insertTime: now,
      runningAt,
      doneAt: fields.stuck ? Infinity : runningAt + this.timings.runningMs,
    };
    this.operations.set(op.name, op);
    return op;
  }

  /** CPUs the live VMs use, and how many exist (for quotas). */
  usage(spot: boolean): { instances: number; cpus: number } {
    let cpus = 0;
    for (const i of this.instances.values()) {
      if (i.status === "TERMINATED") continue;
      if ((i.scheduling["provisioningModel"] === "SPOT") !== spot && this.quotas["PREEMPTIBLE_CPUS"]! > 0) continue;
      cpus += this.machineTypes.find((m) => m.name === i.machineType)?.guestCpus ?? 1;
    }
    return { instances: this.instances.size, cpus };
  }

  /** External IPs in use: one per live VM whose first interface has an access config. */
  externalAddresses(): number {
    let n = 0;
    for (const i of this.instances.values()) {
      const nics = (i.properties["networkInterfaces"] as { accessConfigs?: unknown[] }[] | undefined) ?? [];
      if (i.status !== "TERMINATED" && (nics[0]?.accessConfigs?.length ?? 0) > 0) n += 1;
    }
    return n;
  }

  /** How many VMs of this type fit in the zone now, and what stops the next one. */
  room(
    zone: string,
    machineType: GceMachineType,
    spot: boolean,
    externalIp: boolean,
  ): { n: number; limit: "capacity" | "quota" } {
    const used = this.usage(spot);
    const cpuQuota =
      spot && this.quotas["PREEMPTIBLE_CPUS"]! > 0 ? this.quotas["PREEMPTIBLE_CPUS"]! : this.quotas["CPUS"]!;
    const addresses = externalIp ? this.quotas["IN_USE_ADDRESSES"]! - this.externalAddresses() : Infinity;
    const byQuota = Math.min(
      this.quotas["INSTANCES"]! - used.instances,
      Math.floor((cpuQuota - used.cpus) / machineType.guestCpus),
      addresses,
    );
    const byCapacity = this.capacity[zone] ?? Infinity;
    return byCapacity < byQuota
      ? { n: Math.max(0, byCapacity), limit: "capacity" }
      : { n: Math.max(0, byQuota), limit: "quota" };
  }

  createInstance(
    zone: string,
    name: string,
    props: Record<string, unknown>,
    machineType: string,
    operation?: string,
  ): InstanceRecord {
    const now = this.clock.now();
    const metadata = ((props["metadata"] as { items?: { key: string; value: string }[] })?.items ?? []).map((i) => ({
      ...i,
    }));
    const inst: InstanceRecord = {
      id: this.newId(),
      name,
      zone,
      creationTimestamp: new Date(now).toISOString(),
      machineType,
      labels: { ...(props["labels"] as Record<string, string> | undefined) },
      metadata,
      scheduling: { ...(props["scheduling"] as Record<string, unknown> | undefined) },
      properties: props,
      ...(operation ? { operation } : {}),
      ...(this.listLag > 0 ? { unlisted: this.listLag } : {}),
      status: "PROVISIONING",
      transition: { to: "STAGING", at: now + this.timings.bootMs / 2 },
      serial: "",
    };
    const left = this.capacity[zone];
    if (left !== undefined) this.capacity[zone] = left - 1;
    this.instances.set(inst.id, inst);
    this.history.set(inst.id, inst);
    return inst;
  }

  /** The instances one listing of a zone shows (each lagging one is missing from one listing fewer). */
  listed(zone: string): InstanceRecord[] {
    const shown: InstanceRecord[] = [];
    for (const i of this.instances.values()) {
      if (i.zone !== zone) continue;
      if ((i.unlisted ?? 0) > 0) i.unlisted! -= 1;
      else shown.push(i);
    }
    return shown;
  }

  find(zone: string, idOrName: string): InstanceRecord | undefined {
    this.tick();
    for (const i of this.instances.values())
      if (i.zone === zone && (i.id === idOrName || i.name === idOrName)) return i;
    return undefined;
  }

  /** Deletion: STOPPING, then gone. */
  remove(inst: InstanceRecord): void {
    if (inst.transition?.to === "GONE") return;
    inst.status = "STOPPING";
    inst.transition = { to: "GONE", at: this.clock.now() + this.timings.stopMs };
    this.release(inst.zone);
  }

  /** A VM left the zone: its room is free again. */
  release(zone: string): void {
    const left = this.capacity[zone];
    if (left !== undefined) this.capacity[zone] = left + 1;
  }

  stop(inst: InstanceRecord): void {
    if (inst.status === "TERMINATED" || inst.transition?.to === "GONE") return;
    inst.status = "STOPPING";
    inst.transition = { to: "TERMINATED", at: this.clock.now() + this.timings.stopMs };
  }

  /** The pilot ran `poweroff`: the VM stays, TERMINATED. */
  powerOff(id: string): void {
    const inst = this.instances.get(id);
    if (inst) Object.assign(inst, { status: "TERMINATED", transition: undefined, lastStop: this.clock.now() });
  }

  /** GCE reclaims a spot VM: TERMINATED (action STOP), and a compute.instances.preempted operation. */
  preempt(id: string): void {
    const inst = this.instances.get(id);
    if (!inst) return;
    Object.assign(inst, { status: "TERMINATED", transition: undefined, lastStop: this.clock.now() });
    this.startOperation({ operationType: "compute.instances.preempted", zone: inst.zone, targetId: inst.id });
  }
}
