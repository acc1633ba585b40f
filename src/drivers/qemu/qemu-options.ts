/**
 * The QEMU driver's `Driver_*` options, checked once when the driver is
 * built, so `cloudce validate` names a missing image or qemu binary before
 * any VM is started.
 */

import { accessSync, constants, existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, delimiter, extname, isAbsolute, join, resolve } from "node:path";
import { CloudceError } from "../../errors.js";
import { OptionText } from "../option-text.js";

export const DRIVER_NAME = "QEMU";

export const KNOWN_OPTIONS = [
  "image",
  "image_name",
  "kernel",
  "initrd",
  "append",
  "memory_mb",
  "cpus",
  "accel",
  "max_instances",
  "network",
  "results_disk_mb",
  "vendor_data",
  "state_dir",
  "qemu_binary",
] as const;

export type QemuAccel = "tcg" | "kvm";
export type QemuNetwork = "none" | "user";

/** What the VMs boot: a bootable disk, or a root disk booted with a kernel and initrd given outside it. */
export type QemuBoot =
  | { readonly kind: "disk"; readonly disk: string }
  | {
      readonly kind: "kernel";
      readonly disk: string;
      readonly kernel: string;
      readonly initrd: string;
      readonly append: string;
    };

export interface QemuSettings {
  readonly boot: QemuBoot;
  readonly imageName: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly accel: QemuAccel;
  readonly maxInstances: number;
  readonly network: QemuNetwork;
  readonly resultsDiskMb: number;
  /** A cloud-config or script served as NoCloud vendor-data beside the user-data. */
  readonly vendorData?: string;
  readonly stateDir: string;
  readonly qemuBinary: string;
}

/** The files of a vm-lab image directory (build-image.sh), accepted as `Driver_image`. */
const LAB_LAYOUT = { disk: "rootfs.qcow2", kernel: "vmlinuz", initrd: "initrd.img" } as const;

function invalid(message: string): CloudceError {
  return new CloudceError("OptionInvalid", `QEMU: ${message}`, { driver: DRIVER_NAME });
}

function existingFile(option: string, path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new CloudceError(
      "ImageNotFound",
      `QEMU: Driver_${option}: no such file ${abs}: give the path of an existing file`,
      { driver: DRIVER_NAME },
    );
  }
  return abs;
}

/** The boot description from `image` (a disk, or a vm-lab image directory) and optional `kernel`/`initrd`. */
function bootFrom(options: Readonly<Record<string, string>>): QemuBoot {
  const image = options["image"]?.trim();
  if (!image)
    throw new CloudceError(
      "OptionMissing",
      "QEMU: Driver_image is missing: give a bootable disk (qcow2/raw) or a vm-lab image directory",
      { driver: DRIVER_NAME },
    );
  const abs = resolve(image);
  const append = options["append"]?.trim() ?? "";
  if (existsSync(abs) && statSync(abs).isDirectory()) {
    const at = (f: string) => existingFile("image", join(abs, f));
    return {
      kind: "kernel",
      disk: at(LAB_LAYOUT.disk),
      kernel: at(LAB_LAYOUT.kernel),
      initrd: at(LAB_LAYOUT.initrd),
      append,
    };
  }
  const disk = existingFile("image", abs);
  const kernel = options["kernel"]?.trim();
  const initrd = options["initrd"]?.trim();
  if (!kernel && !initrd) return { kind: "disk", disk };
  if (!kernel || !initrd)
    throw invalid("Driver_kernel and Driver_initrd go together: give both, or neither to boot the disk itself");
  return {
    kind: "kernel",
    disk,
    kernel: existingFile("kernel", kernel),
    initrd: existingFile("initrd", initrd),
    append,
  };
}

/** The qemu binary: a path, or a name found on PATH (plus /usr/bin, where Debian puts it). */
export function findExecutable(name: string, path: string = process.env["PATH"] ?? ""): string | undefined {
  const candidates =
    isAbsolute(name) || name.includes("/")
      ? [resolve(name)]
      : [...path.split(delimiter), "/usr/bin", "/usr/local/bin"].filter(Boolean).map((d) => join(d, name));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

export function parseQemuOptions(options: Readonly<Record<string, string>>): QemuSettings {
  const boot = bootFrom(options);
  const wanted = options["qemu_binary"]?.trim() || "qemu-system-x86_64";
  const qemuBinary = findExecutable(wanted);
  if (!qemuBinary) {
    throw new CloudceError(
      "OptionInvalid",
      `QEMU: ${wanted} not found: install it (Debian: apt-get install qemu-system-x86 qemu-utils) or set Driver_qemu_binary`,
      { driver: DRIVER_NAME },
    );
  }
  const imagePath = options["image"]!.trim();
  const t = new OptionText(options, (name, problem) => invalid(`Driver_${name}: ${problem}`));
  return {
    boot,
    imageName: options["image_name"]?.trim() || basename(imagePath, extname(imagePath)),
    memoryMb: t.whole("memory_mb", 128, 1_048_576) ?? 1024,
    cpus: t.whole("cpus", 1, 256) ?? 2,
    accel: t.oneOf("accel", ["tcg", "kvm"], "tcg"),
    maxInstances: t.whole("max_instances", 1, 1000) ?? 4,
    network: t.oneOf("network", ["none", "user"], "none"),
    resultsDiskMb: t.whole("results_disk_mb", 0, 4096) ?? 0,
    ...(options["vendor_data"]?.trim()
      ? { vendorData: existingFile("vendor_data", options["vendor_data"].trim()) }
      : {}),
    stateDir: resolve(
      options["state_dir"]?.trim() || join(process.env["CLOUDCE_HOME"] ?? join(homedir(), ".cloudce"), "qemu"),
    ),
    qemuBinary,
  };
}
