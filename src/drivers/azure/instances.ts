/**
 * VMs: one listing of the subscription's VMs with their instance views
 * (`statusOnly=true`, every `nextLink` page), narrowed here to the resource
 * group, the name prefix and the tags; one VM; delete, power-off, and the
 * serial log of boot diagnostics. A node's id is the VM's `vmId` (what
 * cloud-init reads as the instance id at boot); calls need its name, which
 * listings and creates remember, and a listing finds otherwise.
 */

import { CloudceError, isCloudceError, toCloudceError } from "../../errors.js";
import type { BulkResult, CallLimit, CloudNode, NodeFailure, NodeFilter } from "../driver.js";
import type { RestResponse } from "../http/rest-client.js";
import type { ArmApi } from "./arm.js";
import { hasTags } from "./names.js";
import { DRIVER_NAME } from "./options.js";
import { armName, toCloudNode, type AzureVm } from "./state-map.js";

/** How long a listing vouches that an id it did not show is not in the resource group. */
const RECENT_LISTING_MS = 10_000;

interface ScaleSet {
  readonly id?: string;
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly sku?: { readonly capacity?: number };
}

export class AzureInstances {
  /** vmId → VM name. */
  private readonly names = new Map<string, string>();
  /** VM name → the scale set it belongs to. */
  private readonly setOf = new Map<string, string>();
  /** vmId → when a listing first showed it. */
  private readonly firstSeen = new Map<string, Date>();
  /** When the last listing started (monotonic). */
  private listedAt: number | undefined;
  /** Scale set name (lower case) → its tags, the CE's metadata of its VMs. */
  private readonly setTags = new Map<string, Readonly<Record<string, string>>>();

  constructor(
    private readonly arm: ArmApi,
    private readonly limit: CallLimit,
  ) {}

  remember(nodes: readonly CloudNode[]): void {
    for (const n of nodes) this.names.set(n.id, n.name);
  }

  /** The resource group's VMs (with their set's tags) whose names start with `namePrefix`, as nodes. */
  async nodes(namePrefix: string): Promise<CloudNode[]> {
    const group =
      `/subscriptions/${this.arm.settings.subscriptionId}/resourcegroups/${this.arm.settings.resourceGroup}/`.toLowerCase();
    const started = this.arm.clock.now();
    const inGroup = (
      await this.arm.list<AzureVm>("compute", this.arm.subscriptionPath("virtualMachines"), { statusOnly: "true" })
    ).filter((vm) => (vm.id ?? "").toLowerCase().startsWith(group));
    for (const vm of inGroup) if (vm.properties?.vmId) this.names.set(vm.properties.vmId, vm.name);
    const present = new Set(inGroup.map((vm) => vm.properties?.vmId ?? vm.name));
    for (const id of this.firstSeen.keys()) if (!present.has(id)) this.firstSeen.delete(id);
    this.listedAt = started;
    const vms = inGroup.filter((vm) => vm.name.startsWith(namePrefix));
    const setNames = vms.map((vm) => armName(vm.properties?.virtualMachineScaleSet?.id).toLowerCase());
    // A set's tags never change once created: listed only when a VM names a set not seen yet.
    if (setNames.some((set) => set !== "" && !this.setTags.has(set))) await this.scaleSets();
    for (const vm of vms) this.rememberSet(vm);
    const nodes = vms.map((vm, i) => toCloudNode(vm, this.setTags.get(setNames[i]!), this.seen(vm)));
    this.remember(nodes);
    return nodes;
  }

  /** When this driver first saw the VM: its creation time when Azure's answer leaves it out. */
  private seen(vm: AzureVm): Date {
    const id = vm.properties?.vmId ?? vm.name;
    let at = this.firstSeen.get(id);
    if (!at) {
      at = new Date();
      this.firstSeen.set(id, at);
    }
    return at;
  }

  private rememberSet(vm: AzureVm): void {
    const set = armName(vm.properties?.virtualMachineScaleSet?.id);
    if (set) this.setOf.set(vm.name, set);
  }

  private async scaleSets(): Promise<void> {
    const sets = await this.arm.list<ScaleSet>("compute", this.arm.groupPath("compute", "virtualMachineScaleSets"));
    for (const set of sets) this.setTags.set(set.name.toLowerCase(), set.tags ?? {});
  }

  async list(filter: NodeFilter): Promise<CloudNode[]> {
    // A VM being deleted is on its way out: the CE has nothing more to do with it.
    return (await this.nodes(filter.namePrefix)).filter(
      (n) => n.state !== "gone" && hasTags(n.metadata, filter.metadata),
    );
  }

  /** One VM by name, with its instance view; undefined when Azure does not know it. */
  async byName(name: string): Promise<CloudNode | undefined> {
    const vm = await this.arm.get<AzureVm>(
      "compute",
      this.arm.groupPath("compute", `virtualMachines/${encodeURIComponent(name)}`),
      { $expand: "instanceView" },
    );
    if (!vm) return undefined;
    this.rememberSet(vm);
    const setName = armName(vm.properties?.virtualMachineScaleSet?.id).toLowerCase();
    if (setName && !this.setTags.has(setName)) {
      const set = await this.arm.get<ScaleSet>(
        "compute",
        this.arm.groupPath("compute", `virtualMachineScaleSets/${encodeURIComponent(setName)}`),
      );
      if (set) this.setTags.set(setName, set.tags ?? {});
    }
    const node = toCloudNode(vm, this.setTags.get(setName), this.seen(vm));
    this.remember([node]);
    return node;
  }

  private async nameOf(id: string): Promise<string | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const known = this.names.get(id);
    // Every VM of the group a recent listing showed is known: an id it did not show is gone, with no listing per id.
    if (known || (this.listedAt !== undefined && this.arm.clock.now() - this.listedAt < RECENT_LISTING_MS))
      return known;
    await this.nodes("");
    return this.names.get(id);
  }

  async get(id: string): Promise<CloudNode | undefined> {
    const name = await this.nameOf(id);
    if (!name) return undefined;
    const node = await this.byName(name);
    // A name taken again by another VM is not this node.
    return node?.id === id ? node : undefined;
  }

  /**
   * Deletes each VM (its disk and NIC go with it); a VM already gone is done.
   * A scale set left empty is deleted too (it costs nothing, but would pile
   * up): the delete of its last known VM is followed to the end for that.
   */
  async destroy(ids: readonly string[]): Promise<BulkResult> {
    const done: string[] = [];
    const gone: string[] = [];
    const failed: NodeFailure[] = [];
    const emptied: [string, RestResponse<unknown>][] = [];
    await Promise.all(
      ids.map((id) =>
        this.limit("delete", async () => {
          try {
            const name = await this.nameOf(id);
            if (!name) {
              done.push(id);
              gone.push(id);
              return;
            }
            const res = await this.arm.call<unknown>(
              "compute",
              "DELETE",
              this.arm.groupPath("compute", `virtualMachines/${encodeURIComponent(name)}`),
              { accept: [404] },
            );
            done.push(id);
            if (res.status === 404 || res.status === 204) gone.push(id);
            const set = this.setOf.get(name);
            this.setOf.delete(name);
            if (set && res.status !== 404 && ![...this.setOf.values()].includes(set)) emptied.push([set, res]);
          } catch (err) {
            failed.push({ target: id, error: toCloudceError(err, "CloudError") });
          }
        }).catch((err: unknown) => void failed.push({ target: id, error: toCloudceError(err, "CloudError") })),
      ),
    );
    // Outside the CE's limit: following a delete to its end holds no slot another delete could use.
    await Promise.all(emptied.map(([set, res]) => this.deleteIfEmpty(set, res)));
    return { done, failed, gone };
  }

  /** After a member's delete: the set, once it holds no VM. Best effort: a set left behind is empty and free. */
  private async deleteIfEmpty(setName: string, deleting: RestResponse<unknown>): Promise<void> {
    try {
      await this.arm.follow(deleting, "delete", this.arm.settings.operationTimeoutMs);
      const path = this.arm.groupPath("compute", `virtualMachineScaleSets/${encodeURIComponent(setName)}`);
      const set = await this.arm.get<ScaleSet>("compute", path);
      if (set && set.sku?.capacity === 0) {
        await this.arm.call("compute", "DELETE", path, { accept: [404] });
        this.setTags.delete(setName.toLowerCase());
      }
    } catch {
      // The next delete of a member, or an operator, removes it.
    }
  }

  /** Powers VMs off (the guest shuts down; the VM stays allocated and billed until deleted). */
  async stop(ids: readonly string[]): Promise<BulkResult> {
    const done: string[] = [];
    const failed: NodeFailure[] = [];
    await Promise.all(
      ids.map((id) =>
        this.limit("stop", async () => {
          try {
            const name = await this.existingName(id);
            await this.arm.call(
              "compute",
              "POST",
              this.arm.groupPath("compute", `virtualMachines/${encodeURIComponent(name)}/powerOff`),
            );
            done.push(id);
          } catch (err) {
            failed.push({ target: id, error: toCloudceError(err, "CloudError") });
          }
        }).catch((err: unknown) => void failed.push({ target: id, error: toCloudceError(err, "CloudError") })),
      ),
    );
    return { done, failed };
  }

  /** The serial log from boot diagnostics: a short-lived SAS link, then the blob itself (no token: the link carries its own). */
  async consoleOutput(id: string): Promise<string> {
    const name = await this.existingName(id);
    const links = await this.arm.call<{ serialConsoleLogBlobUri?: string }>(
      "compute",
      "POST",
      this.arm.groupPath("compute", `virtualMachines/${encodeURIComponent(name)}/retrieveBootDiagnosticsData`),
      { query: { sasUriExpirationTimeInMinutes: 5 } },
    );
    const uri = links.body?.serialConsoleLogBlobUri;
    if (!uri) return "";
    try {
      const res = await this.arm.http.send<string>({ method: "GET", path: uri, anonymous: true, text: true });
      return res.body ?? "";
    } catch (err) {
      // Nothing logged yet: the blob appears with the first console output.
      if (isCloudceError(err, "NodeNotFound")) return "";
      throw err;
    }
  }

  /** The name of the VM with this vmId; NodeNotFound when the resource group has none. */
  private async existingName(id: string): Promise<string> {
    const name = await this.nameOf(id);
    if (name) return name;
    throw new CloudceError(
      "NodeNotFound",
      `AZURE: no VM with vmId ${id} in resource group ${this.arm.settings.resourceGroup}`,
      { driver: DRIVER_NAME },
    );
  }
}
