/**
 * QEMU: real local VMs. Each VM is a QEMU process on this host booting the
 * configured image (a site's own cloud image, or kernel + initrd + root disk
 * as vm-lab builds them) from a copy-on-write overlay, with the user-data on
 * a NoCloud seed. The guest's power-off ends the process; the serial log is
 * the console output. For trying templates before spending cloud money, and
 * for the real-boot tests. Options: see qemu-options.ts and the README.
 */

import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CloudceError } from "../../errors.js";
import type {
  CloudDriver,
  CloudFlavor,
  CloudLimits,
  CloudNode,
  CloudResource,
  CreateNodesRequest,
  CreateNodesResult,
  DriverCapabilities,
  DriverConfig,
  DriverFactory,
  NodeSpec,
  ResourceQuery,
} from "../driver.js";
import { LocalStore, type LocalNodeRecord } from "../process/vm-store.js";
import { copyResultsDisk, createOverlay, createResultsDisk, createSeed } from "./qemu-disks.js";
import { DRIVER_NAME, KNOWN_OPTIONS, parseQemuOptions, type QemuSettings } from "./qemu-options.js";
import { ProcessVmDriver } from "../process/process-vms.js";
import { launchQemu, qemuArgs } from "./qemu-process.js";
import { consoleTail, qemuState } from "./qemu-state.js";
import { unknownOptionNames } from "../option-text.js";
import { selectResources } from "../resource-query.js";

export { DRIVER_NAME, KNOWN_OPTIONS } from "./qemu-options.js";

const CAPABILITIES: DriverCapabilities = {
  uniformBatch: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  // The seed disk holds any size; Nova's limit keeps what is tried here valid on a real cloud.
  userData: { maxBytes: 65_535, measuredAs: "base64" },
  ambiguousImage: "error",
  requiresCredentials: false,
};

const IMAGE_ID = "qemu-image";
const FLAVOR_ID = "qemu-flavor";

/** `Driver_*` options the QEMU driver does not know (for isValid). */
export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

/** A host name cloud-init accepts, from the VM name. */
function hostnameFor(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 63) || "cloudce-vm"
  );
}

export class QemuDriver extends ProcessVmDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  readonly capabilities = CAPABILITIES;
  readonly settings: QemuSettings;

  constructor(config: DriverConfig) {
    const settings = parseQemuOptions(config.options);
    super(new LocalStore(settings.stateDir), DRIVER_NAME);
    this.settings = settings;
  }

  async listImages(q?: ResourceQuery): Promise<CloudResource[]> {
    return selectResources([{ id: IMAGE_ID, name: this.settings.imageName }], q);
  }
  async listFlavors(q?: ResourceQuery): Promise<CloudFlavor[]> {
    const { cpus, memoryMb } = this.settings;
    return selectResources([{ id: FLAVOR_ID, name: `${cpus}cpu-${memoryMb}mb`, vcpus: cpus, ramMb: memoryMb }], q);
  }
  async listNetworks(q?: ResourceQuery): Promise<CloudResource[]> {
    return selectResources([{ id: `qemu-net-${this.settings.network}`, name: this.settings.network }], q);
  }

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    if (request.imageId !== IMAGE_ID)
      throw new CloudceError(
        "ImageNotFound",
        `QEMU: no image with id '${request.imageId}' (the image is ${IMAGE_ID})`,
        { driver: DRIVER_NAME, refused: { input: "image" } },
      );
    if (request.flavorId !== FLAVOR_ID)
      throw new CloudceError(
        "FlavorNotFound",
        `QEMU: no flavor with id '${request.flavorId}' (the flavor is ${FLAVOR_ID})`,
        { driver: DRIVER_NAME, refused: { input: "flavor" } },
      );
    return this.createWithin(
      request,
      {
        limit: this.settings.maxInstances,
        count: async () => (await this.store.all()).length,
        quota: `QEMU: ${this.settings.maxInstances} VMs exist already (Driver_max_instances)`,
      },
      {
        newId: () => `qemu-${randomBytes(6).toString("hex")}`,
        imageId: request.imageId,
        boot: (record, spec) => this.boot(record, spec),
      },
    );
  }

  /** Boots a reserved VM; its record exists first, so a VM whose boot fails halfway is still found (and cleaned up). */
  private async boot(base: LocalNodeRecord, spec: NodeSpec): Promise<CloudNode> {
    const id = base.id;
    const dir = this.store.dir(id);
    try {
      const disks = {
        overlay: join(dir, "overlay.qcow2"),
        seed: join(dir, "seed.img"),
        ...(this.settings.resultsDiskMb > 0 ? { results: join(dir, "results.img") } : {}),
      };
      await createOverlay(this.settings.boot.disk, disks.overlay);
      const vendorData = this.settings.vendorData ? await readFile(this.settings.vendorData) : undefined;
      await createSeed(dir, disks.seed, {
        userData: spec.userData,
        instanceId: id,
        hostname: hostnameFor(spec.name),
        ...(vendorData ? { vendorData } : {}),
      });
      if (disks.results) await createResultsDisk(disks.results, this.settings.resultsDiskMb);
      const pid = launchQemu(
        this.settings,
        dir,
        qemuArgs(this.settings, `cloudce-${id}`, disks, this.store.consolePath(id)),
      );
      await this.store.save({ ...base, pid });
      // The hypervisor runs the VM from here on: its launch time, as a cloud reports it.
      await writeFile(join(dir, "started"), "");
    } catch (err) {
      await this.store.save({ ...base, bootError: err instanceof Error ? err.message : String(err) });
    }
    return (await this.getNode(id))!;
  }

  async getLimits(): Promise<CloudLimits> {
    const { maxInstances, cpus, memoryMb } = this.settings;
    const left = Math.max(0, maxInstances - (await this.store.all()).length);
    return { instances: left, cores: left * cpus, ramMb: left * memoryMb };
  }

  async close(): Promise<void> {
    // VMs deliberately outlive the driver object, as cloud VMs outlive a client.
  }

  /** The VM's serial console log, for streaming while it runs. */
  consolePath(id: string): string {
    return this.store.consolePath(id);
  }

  /** Copies what the guest wrote to its results disk (`Driver_results_disk_mb`) into `outDir`; false without one. */
  async copyResults(id: string, outDir: string): Promise<boolean> {
    if (this.settings.resultsDiskMb === 0 || !(await this.store.load(id))) return false;
    await copyResultsDisk(join(this.store.dir(id), "results.img"), outDir);
    return true;
  }

  protected async toNode(r: LocalNodeRecord): Promise<CloudNode> {
    const [files, tail] = await Promise.all([this.store.files(r), consoleTail(this.store.consolePath(r.id))]);
    return this.nodeOf(r, files, qemuState(r, files, this.vmProcess(r, files), tail));
  }
}

const factory: DriverFactory = (config) => new QemuDriver(config);
export default factory;
