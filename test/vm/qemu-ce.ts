/** A CE on the QEMU cloud booting the vm-lab image, as the real-boot tests use it. */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CloudComputingElement } from "../../src/ce/index.js";
import { QemuDriver } from "../../src/drivers/qemu/index.js";
import { silentLogger } from "../../src/log.js";
import type { PilotStatus } from "../../src/ce/results.js";
import { harnessVendorData, VM_LAB } from "./vm-env.js";

export interface QemuCe {
  readonly ce: CloudComputingElement;
  /** A second view of the same cloud (state is on disk), for what the CE does not expose: results disks. */
  readonly driver: QemuDriver;
  readonly stateDir: string;
}

function qemuDriverOptions(stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    image: VM_LAB.image,
    state_dir: stateDir,
    results_disk_mb: "16",
    memory_mb: "1024",
    cpus: "2",
    max_instances: "4",
    ...extra,
  };
}

export async function qemuCe(workDir: string, options: Record<string, string> = {}): Promise<QemuCe> {
  const stateDir = join(workDir, "qemu");
  const driverOptions = qemuDriverOptions(stateDir, { vendor_data: await harnessVendorData(workDir) });
  const ce = new CloudComputingElement("vm-test", { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "QEMU",
    Queue: "default",
    Instance_Image: "name:image",
    Instance_Flavor: "qemu-flavor",
    Journal_File: join(workDir, "journal.jsonl"),
    ...Object.fromEntries(Object.entries(driverOptions).map(([k, v]) => [`Driver_${k}`, v])),
    ...options,
  });
  if (!set.OK) throw new Error(set.Message);
  return { ce, driver: createQemuDriverForTest(stateDir), stateDir };
}

export function createQemuDriverForTest(stateDir: string, extra: Record<string, string> = {}): QemuDriver {
  return new QemuDriver({
    options: qemuDriverOptions(stateDir, extra),
    credentials: async () => ({ extra: {} }),
    ceName: "vm-test",
    logger: silentLogger,
    requestTimeoutMs: 30_000,
  });
}

export async function writeExecutable(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode: 0o755 });
  return path;
}

/** Polls the CE (not the driver) until the pilot reaches a final DIRAC status. */
export async function waitFinal(
  ce: CloudComputingElement,
  ref: string,
  timeoutMs = VM_LAB.bootTimeoutMs,
): Promise<PilotStatus[]> {
  const seen: PilotStatus[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ce.getJobStatus([ref]);
    if (!r.OK) throw new Error(r.Message);
    const s = r.Value[ref]!;
    if (seen.at(-1) !== s) seen.push(s);
    if (["Done", "Aborted", "Failed", "Deleted"].includes(s)) return seen;
    if (Date.now() > deadline) throw new Error(`pilot ${ref} still ${s} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
