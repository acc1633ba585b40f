/**
 * What `cloudce try` adds around the CE's real template so a verdict can be
 * read back from any image: a probe at the top of the pilot that records who
 * runs it (and when it ends) on the VM's results disk, and NoCloud
 * vendor-data (never the user-data) that mounts that disk early and copies
 * cloud-init's own logs onto it at shutdown.
 */

import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { cutByShutdown, failedModules } from "./try-cloud-init.js";

/** Where on the results disk the probe and the collector write. */
export const TRY_DIR = "cloudce-try";

/** bash lines inserted after the pilot's `#!` line; quiet when /results is not writable. */
const PROBE = [
  "# cloudce try: record who runs this pilot and when it ends (the pilot follows unchanged)",
  `__cloudce_try=/results/${TRY_DIR}`,
  'if mkdir -p "$__cloudce_try" 2>/dev/null; then',
  '  { echo "user=$(id -un)"; echo "uid=$(id -u)"; echo "path=$(readlink -f "${BASH_SOURCE[0]:-$0}")"; echo "cwd=$PWD";',
  '    echo "PILOT_UUID=${PILOT_UUID:-}"; echo "DIRAC_PILOT_STAMP=${DIRAC_PILOT_STAMP:-}"; } > "$__cloudce_try/pilot-start" 2>/dev/null',
  `  trap 'echo "status=$?" > "$__cloudce_try/pilot-end" 2>/dev/null; sync' EXIT`,
  "fi",
];

/** The pilot with the probe after its interpreter line (templates run it with bash). */
export function withProbe(pilot: string): string {
  const newline = pilot.indexOf("\n");
  if (pilot.startsWith("#!") && newline >= 0)
    return `${pilot.slice(0, newline + 1)}${PROBE.join("\n")}\n${pilot.slice(newline + 1)}`;
  return `#!/bin/bash\n${PROBE.join("\n")}\n${pilot}`;
}

const COLLECT_UNIT = [
  "[Unit]",
  "Description=cloudce try: copy cloud-init's logs to the results disk at shutdown",
  "After=local-fs.target",
  "RequiresMountsFor=/results",
  "[Service]",
  "Type=oneshot",
  "RemainAfterExit=yes",
  "ExecStart=/bin/true",
  `ExecStop=/bin/sh -c 'mkdir -p /results/${TRY_DIR} && cp -f /var/log/cloud-init.log /var/log/cloud-init-output.log ` +
    `/run/cloud-init/result.json /run/cloud-init/status.json /results/${TRY_DIR}/ ; sync'`,
  "",
].join("\n");

const BOOT_SCRIPT = [
  "mkdir -p /results",
  "mountpoint -q /results || mount -o umask=0000 LABEL=results /results || exit 0",
  `cat > /etc/systemd/system/cloudce-try-collect.service <<'UNIT'\n${COLLECT_UNIT}UNIT`,
  "systemctl daemon-reload && systemctl start --no-block cloudce-try-collect.service",
  "",
].join("\n");

/** Vendor-data: a bootcmd (user-data's keys win, and our templates set no bootcmd) running the script above. */
export function tryVendorData(): string {
  const b64 = Buffer.from(BOOT_SCRIPT).toString("base64");
  return `#cloud-config\nbootcmd:\n  - [ sh, -c, 'echo ${b64} | base64 -d | sh' ]\n`;
}

export interface GuestReport {
  readonly pilotStart?: Record<string, string>;
  readonly pilotEnd?: Record<string, string>;
  /** cloud-init's result.json errors, when it finished its stages. */
  readonly resultErrors?: readonly string[];
  /**
   * Without result.json (the guest powered off while cloud-init still ran): the errors of the
   * stages status.json recorded as finished, plus the modules cloud-init.log says failed since.
   */
  readonly stageErrors: readonly string[];
  /**
   * Without result.json, the final stage cut short: its modules after the user scripts (the pilot
   * and the template's poweroff) that the shutdown's SIGTERM cut; not in `stageErrors`.
   */
  readonly cutByShutdown: readonly string[];
  readonly collected: boolean;
}

function keyValues(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** Reads the probe's and the collector's files from a copied results disk. */
export async function readGuestReport(resultsDir: string): Promise<GuestReport> {
  const at = (f: string) => readFile(join(resultsDir, TRY_DIR, f), "utf8").catch(() => undefined);
  const [start, end, result, status, log] = await Promise.all([
    at("pilot-start"),
    at("pilot-end"),
    at("result.json"),
    at("status.json"),
    at("cloud-init.log"),
  ]);
  const stages = status ? ((JSON.parse(status) as { v1?: Record<string, unknown> }).v1 ?? {}) : {};
  const recorded = Object.values(stages).flatMap((s) =>
    s && typeof s === "object" && Array.isArray((s as { errors?: unknown }).errors)
      ? (s as { errors: string[] }).errors
      : [],
  );
  const final = stages["modules-final"] as { start?: unknown; finished?: unknown } | undefined;
  const finalCut = !result && typeof final?.start === "number" && final.finished === null;
  const cut = finalCut ? cutByShutdown(log ?? "") : [];
  const unrecorded = failedModules(log ?? "")
    .filter((m) => !recorded.some((e) => e.startsWith(`('${m}'`)) && !cut.includes(m))
    .map((m) => `('${m}', failed: see cloud-init.log)`);
  const stageErrors = [...recorded, ...unrecorded];
  const startKv = keyValues(start);
  const endKv = keyValues(end);
  return {
    ...(startKv ? { pilotStart: startKv } : {}),
    ...(endKv ? { pilotEnd: endKv } : {}),
    ...(result ? { resultErrors: (JSON.parse(result) as { v1: { errors: string[] } }).v1.errors } : {}),
    stageErrors,
    cutByShutdown: cut,
    collected: status !== undefined,
  };
}
