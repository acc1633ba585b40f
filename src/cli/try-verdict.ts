/** The verdict of `cloudce try`: facts from the guest's results disk, the console and the VM's state. */

import type { GuestReport } from "./try-guest.js";

export interface TryVerdict {
  readonly ok: boolean;
  readonly ref: string;
  readonly stamp: string;
  readonly pilot: {
    readonly started: boolean;
    readonly user?: string;
    readonly path?: string;
    readonly identity: "matches" | "differs" | "unknown";
    readonly ended: boolean;
    readonly exitStatus?: string;
  };
  readonly vm: { readonly state: string; readonly cloudState: string; readonly poweredOff: boolean };
  readonly cloudInit: {
    readonly errors: readonly string[];
    /** Modules that failed after the pilot's end, cut by the template's own poweroff: not errors. */
    readonly cutByPoweroff: readonly string[];
    readonly from: string;
    readonly consoleWarnings: readonly string[];
  };
  readonly resultsDir: string;
  readonly problems: readonly string[];
}

export interface JudgeInput {
  readonly ref: string;
  readonly stamp: string;
  readonly node: { readonly state: string; readonly cloudState: string };
  readonly console: string;
  readonly guest: GuestReport;
  readonly resultsDir: string;
  readonly timeoutS: number;
}

/** cloud-init's own complaints as the console shows them (any image, even without the results disk). */
function consoleWarnings(console: string): string[] {
  return console
    .split(/\r?\n/)
    .filter((l) => /cloud-init/i.test(l) && /\b(WARNING|ERROR|CRITICAL|Traceback)\b|Failed to run module/.test(l))
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
    .slice(0, 50);
}

export function judge(input: JudgeInput): TryVerdict {
  const { guest, node } = input;
  const start = guest.pilotStart;
  const identity = !start
    ? "unknown"
    : start["PILOT_UUID"] === input.ref && start["DIRAC_PILOT_STAMP"] === input.stamp
      ? "matches"
      : "differs";
  const poweredOff = node.state === "stopped" && ["POWERED_OFF", "HALTED"].includes(node.cloudState);
  // Modules after the user scripts that the guest's shutdown cut: when the VM powered itself off,
  // that shutdown was the template's poweroff, after the pilot.
  const after = guest.cutByShutdown;
  const cutByPoweroff = poweredOff ? after : [];
  const errors = [
    ...(guest.resultErrors ?? guest.stageErrors),
    ...(poweredOff ? [] : after.map((m) => `('${m}', cut by a shutdown after the user scripts: see cloud-init.log)`)),
  ];
  const from = guest.resultErrors
    ? "result.json"
    : guest.collected
      ? "status.json (cloud-init did not finish its last stage)"
      : "console only (no results disk in the guest)";
  const problems: string[] = [];
  if (!start) problems.push("the pilot never started (or could not write to /results)");
  else if (start["uid"] === "0") problems.push("the pilot ran as root");
  if (identity === "differs") problems.push("PILOT_UUID/DIRAC_PILOT_STAMP differ from what submit returned");
  if (start && !guest.pilotEnd)
    problems.push("no record of the pilot ending: the VM went down while it ran, or the pilot replaced the EXIT trap");
  if (!poweredOff)
    problems.push(
      node.cloudState.startsWith("TIMEOUT")
        ? `the VM did not power off within ${input.timeoutS} s`
        : `the VM ended ${node.cloudState}, not powered off`,
    );
  if (errors.length > 0) problems.push(`cloud-init reported ${errors.length} error${errors.length > 1 ? "s" : ""}`);
  return {
    ok: problems.length === 0,
    ref: input.ref,
    stamp: input.stamp,
    pilot: {
      started: start !== undefined,
      ...(start?.["user"] ? { user: `${start["user"]} (uid ${start["uid"]})` } : {}),
      ...(start?.["path"] ? { path: start["path"] } : {}),
      identity,
      ended: guest.pilotEnd !== undefined,
      ...(guest.pilotEnd?.["status"] ? { exitStatus: guest.pilotEnd["status"] } : {}),
    },
    vm: { state: node.state, cloudState: node.cloudState, poweredOff },
    cloudInit: { errors, cutByPoweroff, from, consoleWarnings: consoleWarnings(input.console) },
    resultsDir: input.resultsDir,
    problems,
  };
}

/** The modules the template's poweroff cut: not errors, but shown. */
function cutLine(cut: readonly string[]): string[] {
  if (cut.length === 0) return [];
  const [n, was, error] = cut.length === 1 ? ["module", "was", "an error"] : ["modules", "were", "errors"];
  return [
    `  ${cut.length} cloud-init ${n} after the pilot's end ${was} cut by the template's poweroff (not ${error}): ${cut.join(", ")}`,
  ];
}

export function renderVerdict(v: TryVerdict): string {
  const p = v.pilot;
  const lines = [
    `== verdict for ${v.ref}: ${v.ok ? "PASS" : "FAIL"}`,
    `pilot started:   ${p.started ? `yes, as ${p.user ?? "?"}, ${p.path ?? "?"}` : "no"}`,
    `pilot identity:  ${p.identity === "matches" ? "PILOT_UUID and DIRAC_PILOT_STAMP as submitted" : p.identity}`,
    `pilot ended:     ${p.ended ? `yes, exit status ${p.exitStatus ?? "?"}` : "no record"}`,
    `VM powered off:  ${v.vm.poweredOff ? "yes" : `no (${v.vm.cloudState})`}`,
    `cloud-init:      ${v.cloudInit.errors.length === 0 ? "no errors" : `${v.cloudInit.errors.length} error(s)`} (from ${v.cloudInit.from})`,
    ...v.cloudInit.errors.map((e) => `  - ${e}`),
    ...cutLine(v.cloudInit.cutByPoweroff),
    ...(v.cloudInit.consoleWarnings.length > 0
      ? ["console warnings:", ...v.cloudInit.consoleWarnings.map((w) => `  ${w}`)]
      : []),
    `guest files:     ${v.resultsDir}`,
  ];
  return lines.join("\n");
}
