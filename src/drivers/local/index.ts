/**
 * LOCAL: a real small cloud on this machine, the embedded default. Each VM
 * is a detached process group running the program its user-data installs
 * (see local-boot.ts), in its own directory under a state directory.
 *
 * Options (`Driver_*`): `state_dir` (default `$CLOUDCE_HOME/local` or
 * `~/.cloudce/local`), `boot_seconds` (time spent "booting", default 0),
 * `max_instances` (project quota, default 50; checked and reserved under a
 * state-dir lock, so concurrent creates never exceed it). Destroy and stop
 * signal the VM's whole process group, so a pilot's background children end
 * with it; the group's leader records its own pid, so this holds even for a
 * VM whose cloudce died before saving it.
 */

import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
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
import { applyUserData, readEnvFile, reroot, type LocalImage } from "./local-boot.js";
import { launchVm } from "./local-process.js";
import { ProcessVmDriver, type VmProcess } from "../process/process-vms.js";
import { LocalStore, type LocalNodeFiles, type LocalNodeRecord } from "../process/vm-store.js";
import { makeDir } from "../../util/make-dir.js";
import { unknownOptionNames } from "../option-text.js";
import { selectResources } from "../resource-query.js";

export const DRIVER_NAME = "LOCAL";

export interface LocalOptions {
  readonly state_dir?: string;
  readonly boot_seconds?: string;
  readonly max_instances?: string;
}

export const KNOWN_OPTIONS = ["state_dir", "boot_seconds", "max_instances"] as const;

const IMAGES: readonly LocalImage[] = [
  { id: "local-el9", name: "el9-pilot", entrypoint: "/root/run_pilot.sh", envFile: "/etc/cloudce/pilot.env" },
];
const FLAVORS: readonly CloudFlavor[] = [
  { id: "local.small", name: "small", vcpus: 1, ramMb: 1024 },
  { id: "local.medium", name: "medium", vcpus: 2, ramMb: 4096 },
];
const NETWORKS: readonly CloudResource[] = [{ id: "local-net", name: "loopback" }];

const CAPABILITIES: DriverCapabilities = {
  uniformBatch: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  userData: { maxBytes: 65_535, measuredAs: "raw" },
  ambiguousImage: "error",
  requiresCredentials: false,
};

/** `Driver_*` options the LOCAL driver does not know (for isValid). */
export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

function wholeNumber(
  options: LocalOptions,
  name: "boot_seconds" | "max_instances",
  fallback: number,
  max: number,
): number {
  const v = options[name];
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v.trim()) || Number(v) > max) {
    throw new CloudceError(
      "OptionInvalid",
      `Driver_${name}: '${v.slice(0, 40)}' is not a whole number from 0 to ${max}`,
      { driver: DRIVER_NAME },
    );
  }
  return Number(v);
}

class LocalDriver extends ProcessVmDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  readonly capabilities = CAPABILITIES;
  private readonly bootSeconds: number;
  private readonly maxInstances: number;

  constructor(config: DriverConfig) {
    const options = config.options as LocalOptions;
    const stateDir = options.state_dir ?? join(process.env["CLOUDCE_HOME"] ?? join(homedir(), ".cloudce"), "local");
    super(new LocalStore(resolve(stateDir)), DRIVER_NAME);
    this.bootSeconds = wholeNumber(options, "boot_seconds", 0, 86_400);
    this.maxInstances = wholeNumber(options, "max_instances", 50, 10_000);
  }

  async listImages(q?: ResourceQuery): Promise<CloudResource[]> {
    return selectResources(IMAGES, q);
  }
  async listFlavors(q?: ResourceQuery): Promise<CloudFlavor[]> {
    return selectResources(FLAVORS, q);
  }
  async listNetworks(q?: ResourceQuery): Promise<CloudResource[]> {
    return selectResources(NETWORKS, q);
  }

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    const image = IMAGES.find((i) => i.id === request.imageId);
    if (!image)
      throw new CloudceError("ImageNotFound", `LOCAL: no image with id '${request.imageId}'`, {
        driver: DRIVER_NAME,
        refused: { input: "image" },
      });
    if (!FLAVORS.some((f) => f.id === request.flavorId)) {
      throw new CloudceError("FlavorNotFound", `LOCAL: no flavor with id '${request.flavorId}'`, {
        driver: DRIVER_NAME,
        refused: { input: "flavor" },
      });
    }
    return this.createWithin(
      request,
      {
        limit: this.maxInstances,
        count: () => this.liveCount(),
        quota: `LOCAL: instance quota of ${this.maxInstances} reached (Driver_max_instances)`,
      },
      { newId: () => randomUUID(), imageId: image.id, boot: (record, spec) => this.boot(record, spec, image) },
    );
  }

  /** Boots a reserved VM; its record exists first, so a crash mid-boot leaves a VM that cleanup can find. */
  private async boot(base: LocalNodeRecord, spec: NodeSpec, image: LocalImage): Promise<CloudNode> {
    const id = base.id;
    const root = this.store.rootDir(id);
    try {
      await makeDir(root, 0o700);
      await applyUserData(spec.userData, root, id);
      const program = reroot(root, image.entrypoint);
      await readFile(program).catch(() => {
        throw new Error(`the user-data installs no ${image.entrypoint}`);
      });
      const env = { ...(await readEnvFile(reroot(root, image.envFile), id)), INSTANCE_ID: id };
      const pid = launchVm({
        vmDir: this.store.dir(id),
        program,
        env,
        bootSeconds: this.bootSeconds,
        consolePath: this.store.consolePath(id),
      });
      await this.store.save({ ...base, pid });
    } catch (err) {
      await this.store.save({ ...base, bootError: err instanceof Error ? err.message : String(err) });
    }
    return (await this.getNode(id))!;
  }

  async getLimits(): Promise<CloudLimits> {
    return { instances: Math.max(0, this.maxInstances - (await this.liveCount())) };
  }

  async close(): Promise<void> {
    // Nothing to release: VMs deliberately outlive the driver object.
  }

  private async liveCount(): Promise<number> {
    return (await this.store.all()).length;
  }

  protected async toNode(r: LocalNodeRecord): Promise<CloudNode> {
    const files = await this.store.files(r);
    return this.nodeOf(r, files, localState(r, files, this.vmProcess(r, files)));
  }
}

/** The LOCAL state map: boot error or interrupted boot → error; ended → stopped; alive before/after boot → booting/running. */
function localState(r: LocalNodeRecord, f: LocalNodeFiles, p: VmProcess): [CloudNode["state"], string] {
  if (r.bootError !== undefined) return ["error", "BOOT_FAILED"];
  if (f.exitCode !== undefined) return ["stopped", `EXITED(${f.exitCode})`];
  if (p === "unstarted") return ["booting", "BUILDING"];
  if (p === "interrupted") return ["error", "BOOT_INTERRUPTED"];
  if (p === "ended") return ["stopped", f.stopRequested ? "POWERED_OFF" : "CRASHED"];
  if (f.stopRequested) return ["stopping", "POWERING_OFF"];
  return f.started ? ["running", "RUNNING"] : ["booting", "BOOTING"];
}

const factory: DriverFactory = (config) => new LocalDriver(config);
export default factory;
