/**
 * A LOCAL VM's "hardware": a detached process group running the image's
 * program under a small shell wrapper that marks boot, records the exit code
 * (the VM's power-off) and outlives the CLI that started it.
 */

import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

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

/**
 * $1 boot delay, $2 VM directory, $3 program path. The leader records its
 * pid first; `started` marks the end of boot; `exit-code` is written
 * atomically when the program ends.
 */
const WRAPPER = [
  recordOwnPid("$2"),
  'sleep "$1"',
  ': > "$2/started"',
  'cd "$2/root" || exit 1',
  'bash "$3"',
  'echo $? > "$2/exit-code.tmp" && mv "$2/exit-code.tmp" "$2/exit-code"',
].join("; ");

export interface VmLaunch {
  readonly vmDir: string;
  readonly program: string;
  readonly env: Readonly<Record<string, string>>;
  readonly bootSeconds: number;
  readonly consolePath: string;
}

/** Starts the VM's process group; returns the leader's pid. */
export function launchVm(launch: VmLaunch): number {
  const out = openSync(launch.consolePath, "a", 0o600);
  try {
    const child = spawn(
      "/bin/sh",
      ["-c", WRAPPER, "cloudce-local-vm", String(launch.bootSeconds), launch.vmDir, launch.program],
      {
        detached: true,
        stdio: ["ignore", out, out],
        // The pilot gets only its own environment: never the CE's (which may hold cloud credentials).
        env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: join(launch.vmDir, "root"), LANG: "C.UTF-8", ...launch.env },
      },
    );
    child.unref();
    if (child.pid === undefined) throw new Error("spawn returned no pid");
    return child.pid;
  } finally {
    closeSync(out);
  }
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
