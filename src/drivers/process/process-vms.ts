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

  private notFound(id: string): CloudceError {
    return new CloudceError("NodeNotFound", `${this.driverName}: no VM ${id}`, { driver: this.driverName });
  }
}

/**
 * Runs a create's reservation; when the caller's stop came while it waited
 * for the state dir's lock, every node is reported as not sent.
 */
export async function reserveUnlessStopped<T>(
  request: CreateNodesRequest,
  reserve: () => Promise<T>,
): Promise<T | CreateNodesResult> {
  try {
    return await reserve();
  } catch (err) {
    if (!(err instanceof StoppedBeforeLock)) throw err;
    return { created: [], failed: request.nodes.map((n) => ({ target: n.name, error: err, notSent: true })) };
  }
}
