/**
 * A LOCAL VM's "hardware": a detached process group running the image's
 * program under a small shell wrapper that marks boot, records the exit code
 * (the VM's power-off) and outlives the CLI that started it.
 */

import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { recordOwnPid } from "../process/vm-process.js";

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
