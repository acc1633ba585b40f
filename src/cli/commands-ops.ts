/** Operations commands: scheduled cleanup under a lock, and reports from the journal. */

import { writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, extname, join } from "node:path";
import type { CloudComputingElement } from "../ce/index.js";
import { expandEnv } from "../ce/ce-options.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { metricsRegistry, recordCleanupPass } from "../metrics/ce-metrics.js";
import { MAX_TIMER_MS, lockedPass, parseDuration, runEvery } from "../ops/cleanup-loop.js";
import { readJournal } from "../ops/journal.js";
import { lockPathFor, withLock } from "../util/lock.js";
import { buildTimelines, summarise, type LiveNode } from "../ops/report.js";
import { formatReportTable } from "../ops/report-table.js";
import { entriesInWindow, liveInWindow, type ReportWindow } from "../ops/report-window.js";
import { renderTimelineSvg } from "../ops/timeline-svg.js";
import { UsageError } from "./cli-errors.js";
import { cleanup, type CeOrQueues, type Outcome } from "./commands-pilots.js";
import { checkWritableFile, fileExists } from "./path-checks.js";
import type { Output } from "./output.js";
import { makeDir } from "../util/make-dir.js";

export interface CleanupSchedule {
  /** `10m`, `30s`, `1h`; undefined runs one pass. */
  readonly every?: string;
  /** Up to this much random extra wait per round (default a tenth of the interval). */
  readonly jitter?: string;
  /** List what one pass would delete, and delete nothing. */
  readonly dryRun?: boolean;
  /** The lock file (default `cloudce-cleanup-<ce>.lock` in $CLOUDCE_HOME or ~/.cloudce). */
  readonly lock?: string;
  readonly logger: Logger;
  /** Stops the loop like SIGTERM does (for embedding and tests). */
  readonly signal?: AbortSignal;
  /** Called once the loop runs (e.g. to serve /metrics), and its returned closer when it stops. */
  readonly whileLooping?: () => Promise<() => Promise<void>>;
}

/** Shortest `--every`: a shorter loop only burns cloud API calls (and a 0 is a busy loop). */
const MIN_EVERY_MS = 10_000;

function defaultStateDir(): string {
  return process.env["CLOUDCE_HOME"] ?? join(homedir(), ".cloudce");
}

/**
 * One cleanup pass, or one every interval until SIGTERM/SIGINT; never two at
 * once for one CE. A one-shot pass that finds the lock held fails with
 * `LockHeld` (exit 75); the loop skips that round.
 */
export async function scheduledCleanup(ces: CeOrQueues, out: Output, schedule: CleanupSchedule): Promise<Outcome> {
  const ce = (Array.isArray(ces) ? ces[0] : ces) as CloudComputingElement;
  const intervalMs = schedule.every === undefined ? undefined : duration(schedule.every, "--every", MIN_EVERY_MS);
  const jitterMs = schedule.jitter === undefined ? undefined : duration(schedule.jitter, "--jitter", 0);
  if (jitterMs !== undefined && intervalMs !== undefined && jitterMs > intervalMs) {
    throw new UsageError(
      `--jitter: '${schedule.jitter}' is longer than --every ${schedule.every}; use at most the interval (default a tenth of it)`,
    );
  }
  let lockPath: string;
  if (schedule.lock !== undefined) {
    await checkWritableFile(schedule.lock, "--lock");
    lockPath = schedule.lock;
  } else {
    lockPath = lockPathFor(defaultStateDir(), ce.ceName);
    await makeDir(dirname(lockPath), 0o700);
  }
  if (intervalMs === undefined) {
    // SIGTERM ends a one-shot pass the way it ends the loop's: deletions in flight finish first.
    const run = await withLock(lockPath, () => cleanup(ces, out, schedule.signal, schedule.dryRun === true));
    if (!run.ran) throw run.held;
    if (!schedule.dryRun)
      recordCleanupPass(metricsRegistry, ce.ceName, {
        succeeded: run.value === "done" && schedule.signal?.aborted !== true,
      });
    return run.value;
  }
  // The loop's own lines are log lines: timestamp, CE name, JSON when not on a terminal.
  const log = schedule.logger.child({ ce: ce.ceName });
  const lines = out.timed();
  // Until its first good pass, the loop's start stands for the last success: an alert then counts intervals from it.
  recordCleanupPass(metricsRegistry, ce.ceName, { succeeded: true, intervalSeconds: intervalMs / 1000 });
  const pass = lockedPass(
    lockPath,
    async () => {
      const outcome = await cleanup(ces, lines);
      recordCleanupPass(metricsRegistry, ce.ceName, { succeeded: outcome === "done" });
      // Served metrics also say what the policies say now (breaker, backoff, credentials): one status call per queue.
      // Its listing is kept as any status listing is: with a period shorter than Cleanup_ListingMaxAge the
      // next pass judges it (deciding up to one period late) instead of listing again; a longer one lists afresh.
      if (schedule.whileLooping) for (const c of Array.isArray(ces) ? ces : [ces]) await c.getCEStatus();
    },
    log,
  );
  const stop = await schedule.whileLooping?.();
  try {
    log.info("cleanup loop started", { everyMs: intervalMs, lock: lockPath });
    await runEvery({
      intervalMs,
      jitterMs: jitterMs ?? Math.round(intervalMs / 10),
      pass,
      logger: log,
      ...(schedule.signal ? { signal: schedule.signal } : {}),
    });
  } finally {
    await stop?.();
  }
  return "done";
}

function duration(text: string, flag: string, minMs: number): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) throw new UsageError(`${flag}: '${text}' is not a duration like 30s, 10m or 1h`);
  if (ms < minMs) throw new UsageError(`${flag}: '${text}' is too short; use at least ${minMs / 1000}s`);
  // Node fires a longer timer at once, which would make the loop run a pass every millisecond.
  if (ms > MAX_TIMER_MS)
    throw new UsageError(
      `${flag}: '${text.slice(0, 40)}' is too long; use at most 24d (Node's longest timer, 2^31-1 ms)`,
    );
  return ms;
}

/** The timeline is SVG: a file named otherwise (`.png`) would hold something its name denies. */
async function checkPlotFile(plot: string): Promise<void> {
  if (extname(plot).toLowerCase() !== ".svg") {
    const png = `${plot.replace(/\.[^./]*$/, "")}.png`;
    throw new UsageError(
      `--plot: ${plot}: the timeline is an SVG drawing; name the file .svg (rsvg-convert -o ${png} FILE.svg makes a PNG of it)`,
    );
  }
  await checkWritableFile(plot, "--plot");
}

/**
 * Summary of pilots from the journal and the live cloud, with a row per
 * queue; only `onlyQueue`'s pilots when `--queue` names one. Optionally a
 * timeline SVG. Both are as of the window's end when it has passed, else as of `now`.
 */
export async function report(
  ce: CloudComputingElement,
  out: Output,
  plot: string | undefined,
  onlyQueue?: string,
  window: ReportWindow = {},
  now: Date = new Date(),
): Promise<void> {
  const journalOption = ce.getParameters()["Journal_File"];
  if (!journalOption)
    throw new CloudceError("OptionMissing", "the CE keeps no journal: set Journal_File or give --journal FILE");
  if (plot !== undefined) await checkPlotFile(plot);
  const journal = expandEnv(journalOption);
  if (!(await fileExists(journal)))
    out.warn(`the journal ${journal} does not exist (yet): the counts below come from the cloud alone`);
  const { entries } = await readJournal(journal, { rotated: true });
  const pilots = (await ce.core.listPilots()).filter((p) => onlyQueue === undefined || p.queue === onlyQueue);
  const live: LiveNode[] = liveInWindow(
    pilots.map((p) => ({
      // A pilot that finished and whose VM the cloud already removed counts as done, like a stopped one.
      ref: p.ref,
      name: p.name,
      state: p.state === "gone" && p.status === "Done" ? "stopped" : p.state,
      createdAt: new Date(p.createdAt),
      ...(p.stoppedAt ? { stoppedAt: new Date(p.stoppedAt) } : {}),
    })),
    window,
  );
  const mine = entriesInWindow(
    entries.filter((e) => e.ce === ce.ceName && (onlyQueue === undefined || e.queue === onlyQueue)),
    window,
  );
  // A bound still to come counts lives up to now: nothing has lived past it yet.
  const asOf = window.until && window.until.getTime() < now.getTime() ? window.until : now;
  const summary = summarise(mine, { live, now: asOf });
  if (plot) {
    await writeFile(
      plot,
      renderTimelineSvg(buildTimelines(mine, { live, now: asOf }), {
        now: asOf,
        title: `Pilot VMs of ${ce.ceName}${onlyQueue === undefined ? "" : `, queue ${onlyQueue}`}`,
      }),
    );
    out.progress(`timeline written to ${plot}`);
  }
  out.result(summary, () => formatReportTable(summary));
}
