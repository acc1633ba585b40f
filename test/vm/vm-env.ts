/**
 * Where the vm-lab is (../shared/vm-lab, VMLAB_DIR) and its cached image
 * ($VMLAB/image, built by build-image.sh), and how the real-boot tests read
 * back what a guest wrote to its results disk.
 */

import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TRY_DIR, tryVendorData } from "../../src/cli/try-guest.js";

export const VM_LAB = {
  dir: process.env["VMLAB_DIR"] ?? resolve(import.meta.dirname, "../../../shared/vm-lab"),
  image: join(process.env["VMLAB"] ?? "/tmp/vm-lab", "image"),
  /** TCG boots take ~30 s on an idle machine and over 5 minutes on a busy one: wide margins. */
  bootTimeoutMs: 900_000,
} as const;

export function labImageReady(): boolean {
  return existsSync(join(VM_LAB.image, ".done"));
}

export async function scratchDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cloudce-vm-${label}-`));
}

/**
 * The harness's NoCloud vendor-data (the one `cloudce try` serves; the user-data stays the CE's):
 * a bootcmd mounts the results disk and copies cloud-init's logs to it at shutdown. The image's
 * own fstab mount can time out on a busy host (systemd gives the device 90 s); bootcmd runs
 * later, when the disk is there.
 */
export async function harnessVendorData(dir: string): Promise<string> {
  const path = join(dir, "vendor-data");
  await writeFile(path, tryVendorData());
  return path;
}

/** What cloud-init said: result.json (absent when the guest powered off mid-stage), status.json and the logs. */
export interface CloudInitReport {
  readonly result: { v1: { errors: string[] } } | undefined;
  readonly status: { v1: Record<string, { errors?: string[] } | unknown> } | undefined;
  readonly log: string;
  readonly output: string;
}

async function optional(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch(() => undefined);
}

/** Reads the files the harness's collector copied at shutdown (see {@link harnessVendorData}). */
export async function cloudInitReport(resultsDir: string, collected = TRY_DIR): Promise<CloudInitReport> {
  const at = (f: string) => optional(join(resultsDir, collected, f));
  const [result, status, log, output] = await Promise.all([
    at("result.json"),
    at("status.json"),
    at("cloud-init.log"),
    at("cloud-init-output.log"),
  ]);
  return {
    result: result ? JSON.parse(result) : undefined,
    status: status ? JSON.parse(status) : undefined,
    log: log ?? "",
    output: output ?? "",
  };
}

/** The modules cloud-init.log says failed, whether or not a stage got to record it. */
export function modulesFailedInLog(report: CloudInitReport): string[] {
  return [...new Set([...report.log.matchAll(/Running module ([\w-]+) \(<module [^>]*>\) failed/g)].map((m) => m[1]!))];
}

/** Every stage's errors in status.json (init-local, init, modules-config, modules-final). */
export function stageErrors(report: CloudInitReport): string[] {
  const v1 = report.status?.v1 ?? {};
  return Object.values(v1).flatMap((stage) =>
    stage && typeof stage === "object" && Array.isArray((stage as { errors?: unknown }).errors)
      ? (stage as { errors: string[] }).errors
      : [],
  );
}

export interface LabBoot {
  /** boot.sh's exit code: 0 the guest powered off (or halted), 124 timeout, 3 reboot, 4 panic. */
  readonly code: number;
  /** `poweroff`, `halt`, `timeout`, ... as boot.sh recorded it. */
  readonly status: string;
  readonly serial: string;
}

/** Boots user-data with vm-lab's boot.sh (seed meta-data carries `instanceId`); results land in `outDir`. */
export async function labBoot(
  userData: string,
  instanceId: string,
  outDir: string,
  vendorData: string,
): Promise<LabBoot> {
  const { spawn } = await import("node:child_process");
  const timeout = String(Math.floor(VM_LAB.bootTimeoutMs / 1000) - 30);
  const args = [
    join(VM_LAB.dir, "boot.sh"),
    userData,
    "--instance-id",
    instanceId,
    "--out",
    outDir,
    "--timeout",
    timeout,
    "--vendor-data",
    vendorData,
  ];
  const child = spawn("bash", args, { stdio: ["ignore", "ignore", "inherit"] });
  const code = await new Promise<number>((done, fail) => {
    child.on("error", fail);
    child.on("exit", (c) => done(c ?? 1));
  });
  const [status, serial] = await Promise.all([
    optional(join(outDir, "_vmlab", "status")),
    optional(join(outDir, "_vmlab", "serial.log")),
  ]);
  return { code, status: (status ?? "").trim(), serial: serial ?? "" };
}
