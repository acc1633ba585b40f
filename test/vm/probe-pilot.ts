/**
 * The pilot the real-boot tests submit: a bash script that records, on the
 * guest's results disk, who ran it, from where, with which identity and its
 * own bytes' digest, then keeps the VM busy for a moment before recording
 * that it ended (a VM that powers off too early never writes `end`).
 */

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface ProbePilot {
  readonly text: string;
  readonly sha256: string;
}

/** `tag` names the results sub-directory; `padKb` adds compressible comment lines (for a pilot that gets gzipped). */
export function probePilot(tag: string, padKb = 0): ProbePilot {
  const lines = [
    "#!/bin/bash",
    "# cloudce real-boot probe: quotes ' \" `, tabs\t, # and {{ braces }}, non-ASCII é ü 漢, STAMP_STR left alone",
    "# a line with a trailing CR\r",
    `out=/results/${tag}`,
    'mkdir -p "$out" || exit 3',
    'self="$(readlink -f "${BASH_SOURCE[0]}")"',
    '{ echo "user=$(id -un)"; echo "uid=$(id -u)"; echo "path=$self"; echo "cwd=$PWD"; echo "home=$HOME"; } > "$out/whoami"',
    'sha256sum "$self" | cut -d" " -f1 > "$out/sha256"',
    'env > "$out/env"',
    'cut -d" " -f1 /proc/uptime > "$out/start"',
    // The VM must stay up until the pilot is over: power-off "before the job ended" shows as a missing `end`.
    "sleep 3",
    'cut -d" " -f1 /proc/uptime > "$out/end"',
    "sync",
    "echo probe pilot done",
  ];
  const pad = Array.from(
    { length: Math.ceil((padKb * 1024) / 64) },
    (_, i) => `# padding line ${String(i).padStart(6, "0")} ${"x".repeat(40)}`,
  );
  const text = `${[...lines.slice(0, 3), ...pad, ...lines.slice(3)].join("\n")}\n`;
  return { text, sha256: createHash("sha256").update(text).digest("hex") };
}

export interface ProbeReport {
  readonly whoami: Record<string, string>;
  readonly sha256: string;
  readonly env: Record<string, string>;
  readonly started: boolean;
  readonly ended: boolean;
}

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Reads what the probe wrote (copied off the results disk into `resultsDir`). */
export async function readProbe(resultsDir: string, tag: string): Promise<ProbeReport> {
  const at = (f: string) => readFile(join(resultsDir, tag, f), "utf8").catch(() => "");
  const [whoami, sha, env, start, end] = await Promise.all([
    at("whoami"),
    at("sha256"),
    at("env"),
    at("start"),
    at("end"),
  ]);
  return {
    whoami: keyValues(whoami),
    sha256: sha.trim(),
    env: keyValues(env),
    started: start.trim() !== "",
    ended: end.trim() !== "",
  };
}
