/**
 * An in-memory cloud: the smallest complete driver, as an example for users
 * writing their own, and a test double with fault injection for the CE's
 * tests. It passes the shared conformance suite like every other driver.
 */

import { randomUUID } from "node:crypto";
import { CloudceError } from "../errors.js";
import type {
  BulkResult,
  CloudDriver,
  CloudFlavor,
  CloudLimits,
  CloudNode,
  CloudResource,
  CreateNodesRequest,
  CreateNodesResult,
  CredentialExpiry,
  DriverCapabilities,
  NodeFilter,
  NodeState,
  ResourceQuery,
} from "../drivers/driver.js";
import { selectResources } from "../drivers/resource-query.js";

export interface MemoryCloudOptions {
  readonly images?: readonly CloudResource[];
  readonly flavors?: readonly CloudFlavor[];
  readonly networks?: readonly CloudResource[];
  readonly capabilities?: Partial<DriverCapabilities>;
  /** Remaining instance quota (undefined: unlimited). */
  readonly instanceQuota?: number;
  /** Booting nodes are running by the next read (default true); false leaves states to `setState`. */
  readonly autoBoot?: boolean;
  /** The cloud's clock (milliseconds), for creation, launch and stop times; default `Date.now`. */
  readonly now?: () => number;
  /** Project limits reported besides the instance quota (e.g. cores left). */
  readonly limits?: CloudLimits;
  /** What `credentialExpiry()` reports; without it the driver has no such method. */
  readonly credentialExpiry?: readonly CredentialExpiry[];
}

/** Faults a test can switch on; each applies to every later call until reset. */
export interface MemoryFaults {
  /** Node names whose creation fails with this error (the request shows the flavor asked for). */
  createFailure?: (name: string, request: CreateNodesRequest) => Error | undefined;
  listFailure?: Error;
  limitsFailure?: Error;
  destroyFailure?: (id: string) => Error | undefined;
  /** Ids whose deletion is accepted but never happens (a stuck delete). */
  destroyStuck?: (id: string) => boolean;
  /** Ids another deleter removes just before this delete reaches the cloud (the delete then finds them gone). */
  vanishBeforeDestroy?: (id: string) => boolean;
}

/** The cloud's state, shared by every driver object made on it (like a real project). */
export class MemoryCloud {
  readonly nodes = new Map<string, { node: CloudNode; userData: Uint8Array }>();
  readonly calls: Record<string, number> = {};
  faults: MemoryFaults = {};
  constructor(readonly options: MemoryCloudOptions = {}) {}

  count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  now(): Date {
    return new Date((this.options.now ?? Date.now)());
  }

  /** Moves a node to a state, as the cloud would on its own (boot, power-off, failure), noting launch and stop times. */
  setState(id: string, state: NodeState, extra: Partial<CloudNode> = {}): void {
    const entry = this.nodes.get(id);
    if (!entry) throw new Error(`no node ${id}`);
    const times = {
      ...(state === "running" && !entry.node.launchedAt ? { launchedAt: this.now() } : {}),
      ...(state === "stopped" && !entry.node.stoppedAt ? { stoppedAt: this.now() } : {}),
    };
    entry.node = { ...entry.node, state, cloudState: state.toUpperCase(), ...times, ...extra };
  }

  driver(): CloudDriver {
    return new MemoryDriver(this);
  }

  /** Completes the boot of every booting node, when auto-boot is on (a read is the cloud's clock). */
  tick(): void {
    if (this.options.autoBoot === false) return;
    for (const [id, e] of this.nodes) if (e.node.state === "booting") this.setState(id, "running");
  }
}

const DEFAULT_CAPABILITIES: DriverCapabilities = {
  uniformBatch: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  userData: { maxBytes: 16_384, measuredAs: "raw" },
  ambiguousImage: "error",
  requiresCredentials: false,
};

class MemoryDriver implements CloudDriver {
  readonly name = "MEMORY";
  readonly capabilities: DriverCapabilities;

  constructor(private readonly cloud: MemoryCloud) {
    this.capabilities = { ...DEFAULT_CAPABILITIES, ...cloud.options.capabilities };
    const expiry = cloud.options.credentialExpiry;
    if (expiry) this.credentialExpiry = async () => expiry;
  }

  readonly credentialExpiry?: () => Promise<readonly CredentialExpiry[]>;

  async listImages(q?: ResourceQuery): Promise<CloudResource[]> {
    this.cloud.count("listImages");
    return selectResources(this.cloud.options.images ?? [{ id: "img-1", name: "pilot-image" }], q);
  }
  async listFlavors(q?: ResourceQuery): Promise<CloudFlavor[]> {
    this.cloud.count("listFlavors");
    return selectResources(this.cloud.options.flavors ?? [{ id: "flv-1", name: "small", vcpus: 2, ramMb: 4096 }], q);
  }
  async listNetworks(q?: ResourceQuery): Promise<CloudResource[]> {
    this.cloud.count("listNetworks");
    return selectResources(this.cloud.options.networks ?? [{ id: "net-1", name: "private" }], q);
  }

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    this.cloud.count("createNodes");
    const created: CloudNode[] = [];
    const failed: { target: string; error: Error }[] = [];
    for (const spec of request.nodes) {
      const fault = this.cloud.faults.createFailure?.(spec.name, request) ?? this.quotaFault();
      if (fault) {
        failed.push({ target: spec.name, error: fault });
        continue;
      }
      const node: CloudNode = {
        id: randomUUID(),
        name: spec.name,
        state: "booting",
        cloudState: "BUILD",
        createdAt: this.cloud.now(),
        metadata: { ...spec.metadata },
      };
      this.cloud.nodes.set(node.id, { node, userData: spec.userData });
      created.push(node);
    }
    return { created, failed };
  }

  private quotaFault(): Error | undefined {
    const quota = this.cloud.options.instanceQuota;
    if (quota === undefined || this.cloud.nodes.size < quota) return undefined;
    return new CloudceError("QuotaExceeded", `MEMORY: instance quota of ${quota} reached`, { driver: this.name });
  }

  async listNodes(filter: NodeFilter): Promise<CloudNode[]> {
    this.cloud.count("listNodes");
    if (this.cloud.faults.listFailure) throw this.cloud.faults.listFailure;
    const nodes = [...this.cloud.nodes.values()]
      .map((e) => e.node)
      .filter(
        (n) =>
          n.name.startsWith(filter.namePrefix) &&
          Object.entries(filter.metadata).every(([k, v]) => n.metadata[k] === v),
      );
    this.cloud.tick();
    return nodes;
  }

  async getNode(id: string): Promise<CloudNode | undefined> {
    this.cloud.count("getNode");
    const node = this.cloud.nodes.get(id)?.node;
    this.cloud.tick();
    return node;
  }

  async destroyNodes(ids: readonly string[]): Promise<BulkResult> {
    this.cloud.count("destroyNodes");
    const done: string[] = [];
    const failed: { target: string; error: Error }[] = [];
    const gone: string[] = [];
    for (const id of ids) {
      if (this.cloud.faults.vanishBeforeDestroy?.(id)) this.cloud.nodes.delete(id);
      const fault = this.cloud.faults.destroyFailure?.(id);
      if (fault) failed.push({ target: id, error: fault });
      else if (this.cloud.faults.destroyStuck?.(id)) done.push(id);
      else {
        if (!this.cloud.nodes.delete(id)) gone.push(id);
        done.push(id);
      }
    }
    return { done, failed, gone };
  }

  async stopNodes(ids: readonly string[]): Promise<BulkResult> {
    this.cloud.count("stopNodes");
    const done = ids.filter((id) => this.cloud.nodes.has(id));
    for (const id of done) this.cloud.setState(id, "stopped");
    const failed = ids
      .filter((id) => !this.cloud.nodes.has(id))
      .map((id) => ({ target: id, error: new CloudceError("NodeNotFound", `MEMORY: no node ${id}`) }));
    return { done, failed };
  }

  async getConsoleOutput(id: string): Promise<string> {
    this.cloud.count("getConsoleOutput");
    const entry = this.cloud.nodes.get(id);
    if (!entry) throw new CloudceError("NodeNotFound", `MEMORY: no node ${id}`);
    return `console of ${entry.node.name}\n`;
  }

  async getLimits(): Promise<CloudLimits> {
    this.cloud.count("getLimits");
    if (this.cloud.faults.limitsFailure) throw this.cloud.faults.limitsFailure;
    const quota = this.cloud.options.instanceQuota;
    return {
      ...this.cloud.options.limits,
      ...(quota === undefined ? {} : { instances: Math.max(0, quota - this.cloud.nodes.size) }),
    };
  }

  async close(): Promise<void> {}
}
