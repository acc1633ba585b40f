/**
 * A QEMU VM's process: a detached process group (a small shell wrapper and
 * QEMU under it) that outlives the CLI which started it. The wrapper records
 * its own pid first (as a LOCAL VM's does, so a VM whose cloudce died before
 * saving the pid is still found and killed) and QEMU's exit status, which is
 * how a guest power-off becomes visible.
 */

import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { recordOwnPid } from "../process/vm-process.js";
import type { QemuBoot, QemuSettings } from "./qemu-options.js";

/** $1 VM directory, then the QEMU command line. `exit-code` appears atomically when QEMU ends. */
const WRAPPER = [
  'dir="$1"; shift',
  recordOwnPid("$dir"),
  '"$@"',
  'echo $? > "$dir/exit-code.tmp" && mv "$dir/exit-code.tmp" "$dir/exit-code"',
].join("; ");

export interface VmDisks {
  readonly overlay: string;
  readonly seed: string;
  readonly results?: string;
}

/** The kernel command line for a kernel + root-disk boot: root on the first virtio disk, console on serial. */
function kernelArgs(boot: Extract<QemuBoot, { kind: "kernel" }>): string[] {
  const cmdline = `root=/dev/vda rw console=ttyS0,115200 panic=1 net.ifnames=0 ${boot.append}`.trim();
  return ["-kernel", boot.kernel, "-initrd", boot.initrd, "-append", cmdline];
}

/** QEMU's arguments for one VM: no display, serial console to a file, power-off ends the process. */
export function qemuArgs(settings: QemuSettings, name: string, disks: VmDisks, consolePath: string): string[] {
  const accel = settings.accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg"];
  const nic = settings.network === "user" ? ["-nic", "user,model=virtio-net-pci,restrict=on"] : ["-nic", "none"];
  return [
    "-name",
    name,
    "-nodefaults",
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    `file:${consolePath}`,
    "-no-reboot",
    ...accel,
    "-m",
    String(settings.memoryMb),
    "-smp",
    String(settings.cpus),
    ...(settings.boot.kind === "kernel" ? kernelArgs(settings.boot) : []),
    "-drive",
    `file=${disks.overlay},if=virtio,format=qcow2`,
    "-drive",
    `file=${disks.seed},if=virtio,format=raw,readonly=on`,
    ...(disks.results ? ["-drive", `file=${disks.results},if=virtio,format=raw`] : []),
    "-device",
    "virtio-rng-pci",
    ...nic,
  ];
}

/** Starts QEMU in its own process group; returns the group leader's pid. */
export function launchQemu(settings: QemuSettings, vmDir: string, args: readonly string[]): number {
  const out = openSync(join(vmDir, "qemu.out"), "a", 0o600);
  try {
    const child = spawn("/bin/sh", ["-c", WRAPPER, "cloudce-qemu-vm", vmDir, settings.qemuBinary, ...args], {
      detached: true,
      stdio: ["ignore", out, out],
      // QEMU needs nothing of the CE's environment (which may hold cloud credentials).
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" },
    });
    child.unref();
    if (child.pid === undefined) throw new Error("spawn returned no pid");
    return child.pid;
  } finally {
    closeSync(out);
  }
}
