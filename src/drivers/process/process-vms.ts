/**
 * VMs that are process groups on this host with their state in a
 * {@link LocalStore} (the LOCAL and QEMU clouds): listing, destroying,
 * stopping and console output work the same whatever runs inside.
 */

import { readFile } from "node:fs/promises";
import { CloudceError } from "../../errors.js";
import type {
  BulkResult,
  CloudNode,
  CreateNodesRequest,
  CreateNodesResult,
  NodeFailure,
  NodeFilter,
  NodeSpec,
  NodeState,
} from "../driver.js";
import { pidExists, signalVm, vmProcessAlive } from "./vm-process.js";
import { StoppedBeforeLock, type LocalNodeFiles, type LocalNodeRecord, type LocalStore } from "./vm-store.js";

/**
 * The VM's process group: its leader lives or has ended, or it was never
 * started, either because its boot is still under way or because the cloudce
 * booting it is gone (it can never start then). A cloudce killed in the
 * instant after the spawn and before the leader wrote its pid reads as
 * interrupted for those few milliseconds, then as the VM it is.
 */
export type VmProcess = "alive" | "ended" | "unstarted" | "interrupted";

/** The node operations of such a driver; a subclass boots VMs and maps a record to a node. */
export abstract class ProcessVmDriver {
  protected constructor(
    protected readonly store: LocalStore,
    private readonly driverName: string,
  ) {}

  protected abstract toNode(record: LocalNodeRecord): Promise<CloudNode>;

  /** Where the VM's process group is, from its record and the pid its leader wrote itself (`files`). */
  protected vmProcess(r: LocalNodeRecord, files: LocalNodeFiles): VmProcess {
    const pid = r.pid ?? files.pid;
    if (pid !== undefined) return vmProcessAlive(pid, this.store.dir(r.id)) ? "alive" : "ended";
    // No pid anywhere: the spawn has not happened. Only the cloudce booting it can still do it.
    return r.bootedBy !== undefined && !pidExists(r.bootedBy) ? "interrupted" : "unstarted";
  }

  /**
   * The node of a record in `state`. A stopped VM stopped when its program
   * exited (its power-off), or, stopped on request without one, when asked;
   * a crash has no known time.
   */
  protected nodeOf(r: LocalNodeRecord, files: LocalNodeFiles, [state, cloudState]: [NodeState, string]): CloudNode {
    const stoppedAt = state === "stopped" ? (files.exitedAt ?? files.stopRequestedAt) : undefined;
    return {
      id: r.id,
      name: r.name,
      state,
      cloudState,
      createdAt: new Date(r.createdAt),
      metadata: r.metadata,
      ...(files.startedAt ? { launchedAt: files.startedAt } : {}),
      ...(stoppedAt ? { stoppedAt } : {}),
    };
  }

  async listNodes(filter: NodeFilter): Promise<CloudNode[]> {
    const records = (await this.store.all()).filter(
      (r) =>
        r.name.startsWith(filter.namePrefix) && Object.entries(filter.metadata).every(([k, v]) => r.metadata[k] === v),
    );
    return Promise.all(records.map((r) => this.toNode(r)));
  }

  async getNode(id: string): Promise<CloudNode | undefined> {
    const record = await this.store.load(id);
    return record ? this.toNode(record) : undefined;
  }

  /**
   * Kills the process group, takes the record out of the listings, then
   * removes the VM's directory. An unknown id counts as done, and is `gone`,
   * as is one whose record another destroy took out first.
   */
  async destroyNodes(ids: readonly string[]): Promise<BulkResult> {
    const gone: string[] = [];
    for (const id of ids) {
      const record = await this.store.load(id);
      const pid = record ? await this.store.leaderPid(record) : undefined;
      if (pid !== undefined) signalVm(pid, this.store.dir(id), "SIGKILL");
      if (!record || !(await this.store.claimRemoval(id))) gone.push(id);
      await this.store.remove(id);
    }
    return { done: [...ids], failed: [], gone };
  }

  /** SIGTERM to the process group (a hard power-off), with the request recorded so the state map can tell a stop from a crash. */
  async stopNodes(ids: readonly string[]): Promise<BulkResult> {
    const done: string[] = [];
    const failed: NodeFailure[] = [];
    for (const id of ids) {
      const record = await this.store.load(id);
      if (!record) {
        failed.push({ target: id, error: this.notFound(id) });
        continue;
      }
      await this.store.markStopRequested(id);
      const pid = await this.store.leaderPid(record);
      if (pid !== undefined) signalVm(pid, this.store.dir(id), "SIGTERM");
      done.push(id);
    }
    return { done, failed };
  }

  async getConsoleOutput(id: string): Promise<string> {
    if (!(await this.store.load(id))) throw this.notFound(id);
    return readFile(this.store.consolePath(id), "utf8").catch(() => "");
  }

  /**
   * Creates the request's VMs, as many as `slots.limit` leaves room for
   * beside the VMs `slots.count` finds. Each gets its record under the state
   * dir's lock first, so concurrent creates (in this process or another)
   * never take one free slot twice, and a VM whose boot fails halfway is
   * still found (and cleaned up); then each is booted. The nodes over the
   * limit fail with QuotaExceeded (`slots.quota` says why). A stop that came
   * while waiting for the lock leaves every node not sent.
   */
  protected async createWithin(
    request: CreateNodesRequest,
    slots: { readonly limit: number; count(): Promise<number>; readonly quota: string },
    vm: {
      newId(): string;
      readonly imageId: string;
      boot(record: LocalNodeRecord, spec: NodeSpec): Promise<CloudNode>;
    },
  ): Promise<CreateNodesResult> {
    await this.store.init();
    let reservation: { reserved: [LocalNodeRecord, NodeSpec][]; refused: NodeSpec[] };
    try {
      reservation = await this.store.exclusive(async () => {
        const room = Math.max(0, slots.limit - (await slots.count()));
        const reserved: [LocalNodeRecord, NodeSpec][] = [];
        for (const spec of request.nodes.slice(0, room)) {
          const record: LocalNodeRecord = {
            id: vm.newId(),
            name: spec.name,
            createdAt: new Date().toISOString(),
            imageId: vm.imageId,
            flavorId: request.flavorId,
            networkIds: [...request.networkIds],
            metadata: { ...spec.metadata },
            ...(request.keyName ? { keyName: request.keyName } : {}),
            bootedBy: process.pid,
          };
          await this.store.save(record);
          reserved.push([record, spec]);
        }
        return { reserved, refused: request.nodes.slice(room) };
      }, request.signal);
    } catch (err) {
      if (!(err instanceof StoppedBeforeLock)) throw err;
      return { created: [], failed: request.nodes.map((n) => ({ target: n.name, error: err, notSent: true })) };
    }
    const created: CloudNode[] = [];
    for (const [record, spec] of reservation.reserved) created.push(await vm.boot(record, spec));
    const quota = { driver: this.driverName, quotaResource: "instances" } as const;
    const failed: NodeFailure[] = reservation.refused.map((s) => ({
      target: s.name,
      error: new CloudceError("QuotaExceeded", slots.quota, quota),
    }));
    return { created, failed };
  }

  private notFound(id: string): CloudceError {
    return new CloudceError("NodeNotFound", `${this.driverName}: no VM ${id}`, { driver: this.driverName });
  }
}
