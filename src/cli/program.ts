/**
 * The `cloudce` command line, declared with commander: global options, one
 * subcommand per operation, each with its own help (`cloudce submit --help`)
 * and usage errors. The actions live in the commands-*.ts files.
 */

import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { LOG_LEVELS } from "../log.js";
import { output, requireExecutable, status, submit } from "./commands-pilots.js";
import { report, scheduledCleanup } from "./commands-ops.js";
import {
  STATES,
  WATCH_SECONDS,
  followOutput,
  killSelected,
  parseStates,
  terminalQuestion,
  watch,
} from "./commands-select.js";
import { UsageError } from "./cli-errors.js";
import { parseWhen, type ReportWindow } from "../ops/report-window.js";
import { config, render, validate } from "./commands-tools.js";
import { demo } from "./commands-demo.js";
import { serveCommand } from "./commands-serve.js";
import { tryCommand } from "./commands-try.js";
import type { CommandRunner } from "./command-runner.js";
import { addExamples } from "./help-examples.js";
import { CLOUDCE_VERSION } from "../version.js";
import { MAX_PILOTS_PER_SUBMIT } from "../ce/cloud-computing-element.js";

/** The options every command takes (before or after the command name). */
export interface GlobalOptions {
  readonly config: string;
  readonly ce?: string;
  readonly queue?: string;
  readonly json?: boolean;
  readonly logLevel?: (typeof LOG_LEVELS)[number];
  readonly journal?: string;
  readonly proxy?: string;
  readonly metricsFile?: string;
}

/** `--number`: a whole number >= 1 (the parser's own usage error otherwise). */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`'${value}' is not a whole number >= 1.`);
  return Number(value);
}

/** `-n`: pilots for one submission, within what one submitJob creates. */
export function pilotCount(value: string): number {
  const n = wholeNumber(value);
  if (n > MAX_PILOTS_PER_SUBMIT)
    throw new InvalidArgumentError(
      `'${value}' is more than one submission creates (${MAX_PILOTS_PER_SUBMIT}); submit the rest in further runs.`,
    );
  return n;
}

/** `--timeout`: seconds, at most a day (a longer wait is a typo). */
function timeoutSeconds(value: string): number {
  const n = wholeNumber(value);
  if (n > 86_400) throw new InvalidArgumentError(`'${value}' is more than a day (86400 s).`);
  return n;
}

const DEFAULT_CONFIG = "etc/local.conf";
/** The demo's pilot, found next to the code so that `demo` works from any directory. */
const EXAMPLE_PILOT = fileURLToPath(new URL("../../etc/pilot-example.sh", import.meta.url));

/** The program; `run` is what each command's action calls with its CE work. */
export function buildProgram(runner: CommandRunner, env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command("cloudce")
    .description("a cloud computing element for grid pilot jobs: boots pilot VMs with cloud-init")
    .usage("[options] <command> [command options]")
    .version(CLOUDCE_VERSION, "-V, --version", "print cloudce's version")
    .showSuggestionAfterError(true)
    .option(
      "-c, --config <file>",
      "CE configuration: flat Key = Value or DIRAC CFG ($CLOUDCE_CONFIG if set)",
      env["CLOUDCE_CONFIG"] ?? DEFAULT_CONFIG,
    )
    .option("--ce <name>", "the CE to use (DIRAC CFG files may define several; a flat file's CE line must agree)")
    .option("-q, --queue <name>", "the queue whose options override the CE's")
    .option("--json", "machine-readable output; errors as {OK, Message, Errno} on stdout")
    .addOption(
      new Option(
        "--log-level <level>",
        "log lines on stderr at and above this level (default warn; info for cleanup --every)",
      ).choices(LOG_LEVELS),
    )
    .option("--journal <file>", "the audit journal (overrides the CE's Journal_File)")
    .option("--proxy <file>", "proxy PEM for CEs whose auth file says secret = PROXY")
    .option(
      "--metrics-file <file>",
      "after the command, write its Prometheus metrics here (node_exporter textfile collector)",
    );
  runner.configure(program);

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
    .option("--wide", "full references instead of short ones (the table is then wider than 80 columns)")
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
            ...(opts.every !== undefined ? { every: opts.every } : {}),
            ...(opts.jitter !== undefined ? { jitter: opts.jitter } : {}),
            ...(opts.lock !== undefined ? { lock: opts.lock } : {}),
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

  program
    .command("render")
    .description("print the user-data one pilot would get")
    .option("-e, --executable <file>", "the pilot executable")
    .action(
      runner.action(async ({ ce, out }, opts: { executable?: string }) =>
        render(ce, out, await requireExecutable(opts.executable, "render")),
      ),
    );

  program
    .command("validate")
    .description("check the file, options, driver, template, auth file and folders; --online also the cloud")
    .option("--online", "also check image, flavor, networks and quota against the cloud")
    .action(
      runner.action(
        async ({ ce, out, loaded, problems }, opts: { online?: boolean }) =>
          validate(ce, out, { origins: loaded.origins, fileProblems: problems, online: opts.online === true }),
        { validation: true },
      ),
    );

  program
    .command("config")
    .description("print the effective options and where each came from")
    .action(runner.configAction((loaded, out) => config(loaded, out)));

  program
    .command("demo")
    .description("submit, watch, inspect and clean up a few pilots")
    .option("-n, --number <n>", `pilots to submit (at most ${MAX_PILOTS_PER_SUBMIT})`, pilotCount, 3)
    .option("-e, --executable <file>", "the pilot executable (default: the package's etc/pilot-example.sh)")
    .option("--timeout <seconds>", "how long to wait for the pilots to finish", timeoutSeconds, 120)
    .action(
      runner.action(
        async ({ ce, out, signal }, opts: { number: number; executable?: string; timeout: number }) =>
          demo(ce, out, {
            executable: opts.executable ?? EXAMPLE_PILOT,
            count: opts.number,
            timeoutMs: opts.timeout * 1000,
            ...(signal ? { signal } : {}),
          }),
        { stopsItself: () => true },
      ),
    );

  program
    .command("try")
    .description(
      "boot one pilot of this CE's template on a local QEMU VM, stream its console, and give a verdict (exit 1 when it does not pass)",
    )
    .option("-e, --executable <file>", "the pilot executable")
    .option(
      "--image <path>",
      "a bootable disk (qcow2/raw cloud image) or a vm-lab image directory (default $VMLAB/image, /tmp/vm-lab/image)",
    )
    .addOption(new Option("--accel <accel>", "QEMU acceleration (default tcg)").choices(["tcg", "kvm"]))
    .option("--memory <mb>", "guest memory in MB (default 1024)", wholeNumber)
    .option("--timeout <seconds>", "how long to wait for the VM to power off", timeoutSeconds, 900)
    .action(
      runner.loadedAction(
        async (
          { loaded, out, logger, globals, io },
          opts: { executable?: string; image?: string; accel?: string; memory?: number; timeout: number },
        ) =>
          tryCommand(loaded, globals.ce, out, logger, {
            executable: await requireExecutable(opts.executable, "try"),
            timeoutMs: opts.timeout * 1000,
            ...(opts.image !== undefined ? { image: opts.image } : {}),
            ...(opts.accel !== undefined ? { accel: opts.accel } : {}),
            ...(opts.memory !== undefined ? { memoryMb: String(opts.memory) } : {}),
            ...(out.json ? {} : { console: (chunk: string) => void io.stderr.write(chunk) }),
          }),
      ),
    );

  program
    .command("serve")
    .description(
      "JSON-RPC 2.0 on stdin/stdout for the DIRAC CE plugin (docs/serve-protocol.md); ends on stdin EOF, a signal, or when its parent dies",
    )
    .option("--stdio", "speak the protocol on stdin/stdout (the only transport)")
    .option(
      "--drain-seconds <n>",
      "on EOF or a signal, wait this long for running requests (default: the largest Cloud_RequestTimeout of the open CEs + 30)",
      seconds("--drain-seconds"),
    )
    .option("--metrics-port <port>", "also serve Prometheus metrics on http://127.0.0.1:PORT/metrics", wholePort)
    .action(
      runner.ownAction(async (opts: { stdio?: boolean; drainSeconds?: number; metricsPort?: number }, globals, io) => {
        if (!opts.stdio) runner.usage("--stdio is required (the only transport)");
        const stopMetrics = opts.metricsPort === undefined ? undefined : await runner.serveMetrics(opts.metricsPort);
        try {
          const argv = [
            ...(opts.stdio ? ["--stdio"] : []),
            ...(opts.drainSeconds === undefined ? [] : ["--drain-seconds", String(opts.drainSeconds)]),
            "--log-level",
            globals.logLevel ?? "info",
          ];
          return await serveCommand(argv, io.stderr);
        } finally {
          await stopMetrics?.();
        }
      }),
    );

  addExamples(program);
  return program;
}

/** A count of seconds >= 0 (a negative one would read as a flag, and a drain cannot be negative). */
function seconds(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value))
      throw new InvalidArgumentError(`'${value}' is not a whole number of seconds >= 0 (${flag} 0 does not wait).`);
    return Number(value);
  };
}

function watchSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < WATCH_SECONDS.min || n > WATCH_SECONDS.max) {
    throw new InvalidArgumentError(
      `'${value.slice(0, 20)}' is not a whole number of seconds from ${WATCH_SECONDS.min} to ${WATCH_SECONDS.max}.`,
    );
  }
  return n;
}

/** How often `output --follow` reads the console again. */
const FOLLOW_EVERY_MS = 2_000;

function reportWindow(since: string | undefined, until: string | undefined): ReportWindow {
  const now = new Date();
  const when = (flag: string, text: string): Date => {
    const at = parseWhen(text, now);
    if (!at)
      throw new UsageError(
        `${flag}: '${text.slice(0, 40)}' is neither a date or time (2026-12-01, 2026-12-01T08:00Z) nor a time ago (24h, 7d)`,
      );
    return at;
  };
  const window = {
    ...(since ? { since: when("--since", since) } : {}),
    ...(until ? { until: when("--until", until) } : {}),
  };
  if (window.since && window.until && window.since > window.until)
    throw new UsageError(`--since ${since} is after --until ${until}`);
  return window;
}

function wholePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535)
    throw new InvalidArgumentError(`'${value}' is not a port (1-65535).`);
  return n;
}
