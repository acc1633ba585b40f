/**
 * The QEMU state map: from the VM's record, its wrapper process, QEMU's exit
 * status and what the guest kernel last said on the serial console.
 */

import { type FileHandle, open } from "node:fs/promises";
import type { NodeState } from "../driver.js";
import type { LocalNodeFiles, LocalNodeRecord } from "../process/vm-store.js";
import type { VmProcess } from "../process/process-vms.js";

/** Enough of the console's end for the kernel's last words; the log itself can grow to megabytes. */
const TAIL_BYTES = 16_384;

/** The last bytes of a console log ("" when there is none yet). */
export async function consoleTail(path: string, bytes = TAIL_BYTES): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch {
    return "";
  }
  try {
    const size = (await handle.stat()).size;
    const length = Math.min(size, bytes);
    const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}

/** What the guest kernel says last when it stops. */
function guestEnding(tail: string): "poweroff" | "halt" | "reboot" | "panic" | undefined {
  if (tail.includes("reboot: Power down")) return "poweroff";
  if (tail.includes("reboot: System halted")) return "halt";
  if (tail.includes("Kernel panic")) return "panic";
  if (tail.includes("reboot: Restarting system")) return "reboot";
  return undefined;
}

/**
 * Booting until QEMU runs, error if the cloudce booting it died before it
 * could start QEMU; running while it does, until the guest halts (QEMU
 * stays up on a halt) or panics; once QEMU has exited, stopped when the guest
 * powered off or rebooted (-no-reboot ends QEMU) or the VM was stopped, error otherwise.
 */
export function qemuState(r: LocalNodeRecord, f: LocalNodeFiles, p: VmProcess, tail: string): [NodeState, string] {
  if (r.bootError !== undefined) return ["error", "BOOT_FAILED"];
  if (p === "unstarted") return ["booting", "BUILDING"];
  if (p === "interrupted") return ["error", "BOOT_INTERRUPTED"];
  const ending = guestEnding(tail);
  if (p === "alive") {
    if (ending === "halt") return ["stopped", "HALTED"];
    if (ending === "panic") return ["error", "KERNEL_PANIC"];
    return f.stopRequested ? ["stopping", "POWERING_OFF"] : ["running", "RUNNING"];
  }
  if (f.stopRequested) return ["stopped", "STOPPED"];
  if (ending === "panic") return ["error", "KERNEL_PANIC"];
  if (f.exitCode === 0) return ["stopped", ending === "reboot" ? "REBOOTED" : "POWERED_OFF"];
  return ["error", f.exitCode === undefined ? "CRASHED" : `QEMU_EXITED(${f.exitCode})`];
}
