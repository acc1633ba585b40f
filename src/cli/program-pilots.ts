/** The pilot commands' declarations: submit, status, kill, cleanup, report, output. */

import type { Command } from "commander";
import { MAX_PILOTS_PER_SUBMIT } from "../ce/cloud-computing-element.js";
import type { CommandRunner } from "./command-runner.js";
import { report, scheduledCleanup } from "./commands-ops.js";
import { output, requireExecutable, status, submit } from "./commands-pilots.js";
import {
  STATES,
  WATCH_SECONDS,
  followOutput,
  killSelected,
  parseStates,
  terminalQuestion,
  watch,
} from "./commands-select.js";
import { pilotCount, reportWindow, watchSeconds, wholePort } from "./option-values.js";
import { definedProps } from "../util/defined.js";

/** How often `output --follow` reads the console again. */
const FOLLOW_EVERY_MS = 2_000;

export function addPilotCommands(program: Command, runner: CommandRunner): void {
  program
    .command("submit")
    .description("start N pilot VMs running FILE")
    .option("-n, --number <n>", `pilots to submit (at most ${MAX_PILOTS_PER_SUBMIT})`, pilotCount, 1)
    .option("-e, --executable <file>", "the pilot executable")
    .action(
      runner.action(
        async ({ ce, out, signal }, opts: { number: number; executable?: string }) => {
          return (await submit(ce, out, await requireExecutable(opts.executable, "submit"), opts.number, signal))
            .outcome;
        },
        { stopsItself: () => true },
      ),
    );

  program
    .command("status")
    .description(
      "pilot status (all of this CE's VMs, or --queue's, sorted by state then age, with a summary per queue, when no REF)",
    )
    .argument("[refs...]", "pilot references: cloud://<id>, or the short id status prints")
    .option("--all", "every VM of this CE (the default without REF)")
    .option("--state <states>", `only pilots in these states (comma-separated: ${STATES.join(", ")})`)
    .option(
      "--wide",
      "full references and names, and the cloud's own state, never clipped (for wide terminals: over 80 columns)",
    )
    .option(
      "--watch [seconds]",
      `show it again every SECONDS (default ${WATCH_SECONDS.default}, ${WATCH_SECONDS.min}-${WATCH_SECONDS.max}) until SIGINT`,
      watchSeconds,
    )
    .action(
      runner.action(
        async (
          { ces, out, globals, io, signal },
          opts: { all?: boolean; wide?: boolean; state?: string; watch?: number | true },
          refs: string[],
        ) => {
          const states = opts.state === undefined ? undefined : parseStates(opts.state);
          if (states && refs.length > 0) runner.usage("--state chooses among all pilots: give it without references");
          const show = (o: typeof out): Promise<void> =>
            status(ces, o, opts.all ? [] : refs, opts.wide === true, globals.queue, states);
          if (opts.watch === undefined) return show(out);
          const everySeconds = opts.watch === true ? WATCH_SECONDS.default : opts.watch;
          return watch(show, out, { everySeconds, stdout: io.stdout, ...(signal ? { signal } : {}) });
          // A watch ends at the signal between rounds: that is its normal end, not an interrupted call.
        },
        { perQueue: true, stopsItself: (opts) => (opts as { watch?: unknown }).watch !== undefined },
      ),
    );

  program
    .command("kill")
    .description("destroy pilot VMs: by reference, or --all / --state (of --queue's pilots), asking first (or --yes)")
    .argument("[refs...]", "pilot references: cloud://<id>, or the short id status prints")
    .option("--all", "every pilot VM of this CE (or of --queue)")
    .option("--state <states>", `the pilots in these states (comma-separated: ${STATES.join(", ")})`)
    .option("--yes", "kill without asking (needed for --all/--state when not on a terminal)")
    .option("--dry-run", "list what would be killed; kill nothing")
    .action(
      runner.action(
        async (
          { ce, out, globals, io },
          opts: { all?: boolean; state?: string; yes?: boolean; dryRun?: boolean },
          refs: string[],
        ) =>
          killSelected(ce, out, refs, {
            ...(opts.all ? { all: true } : {}),
            ...(opts.state !== undefined ? { states: parseStates(opts.state) } : {}),
            ...(globals.queue !== undefined ? { queue: globals.queue } : {}),
            ...(opts.yes ? { yes: true } : {}),
            ...(opts.dryRun ? { dryRun: true } : {}),
            ...(terminalQuestion(io.stderr) ? { ask: terminalQuestion(io.stderr)! } : {}),
            // Deletes in flight are waited for, so that the journal has every one.
          }),
        { perQueue: true, stopsItself: () => true },
      ),
    );

  program
    .command("cleanup")
    .description(
      "remove stopped, failed and over-age VMs of each queue of this CE (or --queue's), once or every interval until SIGTERM/SIGINT",
    )
    .option("--every <duration>", "run a pass every DURATION (at least 10s: 30s, 10m, 1h)")
    .option(
      "--jitter <duration>",
      "with --every: up to DURATION of random extra wait per round (default a tenth of --every)",
    )
    .option(
      "--lock <file>",
      "the per-CE lock file (default $CLOUDCE_HOME or ~/.cloudce, cloudce-cleanup-<ce>.lock); a one-shot run that finds it held exits 75",
    )
    .option(
      "--metrics-port <port>",
      "with --every: serve Prometheus metrics on http://127.0.0.1:PORT/metrics",
      wholePort,
    )
    .option("--dry-run", "list what one pass would delete; delete nothing")
    .action(
      runner.action(
        async (
          { ces, out, logger, signal, serveMetrics },
          opts: { every?: string; jitter?: string; lock?: string; metricsPort?: number; dryRun?: boolean },
        ) => {
          if (opts.metricsPort !== undefined && opts.every === undefined)
            runner.usage("--metrics-port needs --every (a one-shot run can write --metrics-file)");
          if (opts.dryRun && opts.every !== undefined)
            runner.usage("--dry-run shows one pass: give it without --every");
          if (opts.jitter !== undefined && opts.every === undefined)
            runner.usage("--jitter needs --every (it spreads the rounds of a loop)");
          return scheduledCleanup(ces, out, {
            logger,
            ...definedProps({ every: opts.every, jitter: opts.jitter, lock: opts.lock }),
            ...(opts.dryRun ? { dryRun: true } : {}),
            ...(signal ? { signal } : {}),
            ...(opts.metricsPort !== undefined ? { whileLooping: () => serveMetrics(opts.metricsPort!) } : {}),
          });
        },
        { loop: (opts) => (opts as { every?: string }).every !== undefined, perQueue: true, stopsItself: () => true },
      ),
    );

  program
    .command("report")
    .description("pilots submitted/running/done/aborted/cleaned, lifetimes, VM-hours, from the journal and the cloud")
    .option("--plot <file>", "also draw a timeline SVG into FILE")
    .option(
      "--since <when>",
      "only pilots whose VM lived after WHEN: a date or time (2026-12-01, 2026-12-01T08:00Z) or a time ago (24h, 7d)",
    )
    .option("--until <when>", "only pilots whose VM was created before WHEN (same forms as --since)")
    .action(
      runner.action(
        async ({ ce, out, globals }, opts: { plot?: string; since?: string; until?: string }) =>
          report(ce, out, opts.plot, globals.queue, reportWindow(opts.since, opts.until)),
        { perQueue: true },
      ),
    );

  program
    .command("output")
    .description("a pilot VM's console output")
    .argument("<ref>", "one pilot reference: cloud://<id>, or the short id status prints")
    .option("--follow", "keep printing what the console adds until the pilot has finished (or SIGINT)")
    .action(
      runner.action(
        async ({ ce, out, io, signal }, opts: { follow?: boolean }, ref: string) =>
          opts.follow
            ? followOutput(ce, out, ref, {
                everyMs: FOLLOW_EVERY_MS,
                write: (t) => void (out.json ? undefined : io.stdout.write(t)),
                ...(signal ? { signal } : {}),
              })
            : output(ce, out, ref),
        { perQueue: true, stopsItself: (opts) => (opts as { follow?: boolean }).follow === true },
      ),
    );
}
