/** Operations commands: scheduled cleanup under a lock, and reports from the journal. */

import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { CloudComputingElement } from "../ce/index.js";
import { expandEnv } from "../ce/ce-options.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { lockedPass, parseDuration, runEvery } from "../ops/cleanup-loop.js";
import { readJournal } from "../ops/journal.js";
import { lockPathFor, withLock } from "../ops/lock.js";
import { buildTimelines, summarise, type LiveNode } from "../ops/report.js";
import { formatReportTable } from "../ops/report-table.js";
import { renderTimelineSvg } from "../ops/timeline-svg.js";
import { cleanup, unwrap } from "./commands-pilots.js";
import type { Output } from "./output.js";

export interface CleanupSchedule {
  /** `10m`, `30s`, `1h`; undefined runs one pass. */
  readonly every?: string;
  /** Up to this much random extra wait per round (default a tenth of the interval). */
  readonly jitter?: string;
  /** The lock file (default `cloudce-cleanup-<ce>.lock` in $CLOUDCE_HOME or ~/.cloudce). */
  readonly lock?: string;
  readonly logger: Logger;
  /** Stops a one-shot pass half-way (SIGTERM/SIGINT to the CLI); the loop handles signals itself. */
  readonly signal?: AbortSignal;
}

export function defaultStateDir(): string {
  return process.env["CLOUDCE_HOME"] ?? join(homedir(), ".cloudce");
}

/**
 * One cleanup pass, or one every interval until SIGTERM/SIGINT; never two at
 * once for one CE. A one-shot pass that finds the lock held fails with
 * `LockHeld` (exit 75); the loop skips that round.
 */
export async function scheduledCleanup(ce: CloudComputingElement, out: Output, schedule: CleanupSchedule): Promise<void> {
  const lockPath = schedule.lock ?? lockPathFor(defaultStateDir(), ce.ceName);
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  if (schedule.every === undefined) {
    const run = await withLock(lockPath, () => cleanup(ce, out, schedule.signal));
    if (!run.ran) throw run.held;
    return;
  }
  const intervalMs = duration(schedule.every, "--every");
  const jitterMs = schedule.jitter === undefined ? Math.round(intervalMs / 10) : duration(schedule.jitter, "--jitter");
  const pass = lockedPass(lockPath, () => cleanup(ce, out), schedule.logger);
  const result = await runEvery({ intervalMs, jitterMs, pass, logger: schedule.logger });
  out.progress(`cleanup loop stopped by ${result.stoppedBy} after ${result.rounds} passes (${result.failures} failed)`);
}

function duration(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) throw new CloudceError("OptionInvalid", `${flag}: '${text}' is not a duration like 30s, 10m or 1h`);
  return ms;
}

/** Summary of pilots from the journal and the live cloud; optionally a timeline SVG. */
export async function report(ce: CloudComputingElement, out: Output, plot: string | undefined): Promise<void> {
  const journalOption = ce.getParameters()["Journal_File"];
  if (!journalOption) throw new CloudceError("OptionMissing", "report: the CE keeps no journal: set Journal_File");
  const { entries } = await readJournal(expandEnv(journalOption), { rotated: true });
  const live: LiveNode[] = unwrap(await ce.listPilots(), "report").map((p) => ({
    // A pilot that finished and whose VM the cloud already removed counts as done, like a stopped one.
    ref: p.ref, name: p.name, state: p.state === "gone" && p.status === "Done" ? "stopped" : p.state, createdAt: new Date(p.createdAt),
  }));
  const mine = entries.filter((e) => e.ce === ce.ceName);
  const summary = summarise(mine, { live });
  if (plot) {
    await writeFile(plot, renderTimelineSvg(buildTimelines(mine, { live }), { title: `Pilot VMs of ${ce.ceName}` }));
    out.progress(`timeline written to ${plot}`);
  }
  out.result(summary, () => formatReportTable(summary));
}
