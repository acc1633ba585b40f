/**
 * A process-group VM seen from outside (the LOCAL and QEMU clouds): its
 * leader records its own pid, and the CE checks and signals the group by it
 * without mistaking a reused pid for the VM.
 */

import { readFileSync } from "node:fs";

/**
 * A VM wrapper's first step, for the VM directory `dir` (a shell word): the
 * leader writes its own pid to `pid` (atomically), so the VM can be found and
 * signalled even when cloudce dies before it saves the pid (see
 * LocalStore.leaderPid); a wrapper that cannot write it (its VM was destroyed
 * before it ran) ends at once.
 */
export function recordOwnPid(dir: string): string {
  return `{ echo $$ > "${dir}/pid.tmp" && mv -f "${dir}/pid.tmp" "${dir}/pid"; } || exit 1`;
}

/** True while the VM's wrapper process lives (checked by its command line, so a reused pid is not mistaken for it). */
export function vmProcessAlive(pid: number, vmDir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(vmDir);
  } catch {
    // No /proc (not Linux): trust the signal check.
    return true;
  }
}

/**
 * Signals the VM's whole process group: the pilot's background children too,
 * even after the group leader (the wrapper) has exited. The group id is the
 * leader's pid, and the kernel does not hand out a pid again while a group
 * with that id has members, so a group with no live leader is still ours.
 * Only a leader pid now held by another program (the group ended and the
 * pid was reused) is left alone.
 */
export function signalVm(pid: number, vmDir: string, signal: NodeJS.Signals): void {
  if (pidExists(pid) && !vmProcessAlive(pid, vmDir)) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: no process of the group is left; nothing to do.
  }
}

/** A live process holds the pid (a zombie, exited but not yet reaped, does not count). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}
