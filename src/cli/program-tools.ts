/** The other commands' declarations: render, validate, config, demo, try, serve. */

import { fileURLToPath } from "node:url";
import { type Command, Option } from "commander";
import { MAX_PILOTS_PER_SUBMIT } from "../ce/cloud-computing-element.js";
import type { CommandRunner } from "./command-runner.js";
import { demo } from "./commands-demo.js";
import { requireExecutable } from "./commands-pilots.js";
import { serveCommand } from "./commands-serve.js";
import { config, render, validate } from "./commands-tools.js";
import { tryCommand } from "./commands-try.js";
import { memoryMb, pilotCount, seconds, timeoutSeconds, wholePort } from "./option-values.js";
import { definedProps } from "../util/defined.js";

/** The demo's pilot, found next to the code so that `demo` works from any directory. */
const EXAMPLE_PILOT = fileURLToPath(new URL("../../etc/pilot-example.sh", import.meta.url));

/**
 * The global options serve would ignore: each request names its CE and queue
 * and carries its options (the plugin sends the DIRAC CS's), so one of these
 * on serve's command line (Bridge_Command) can only mislead; serve refuses it.
 * `--config` from $CLOUDCE_CONFIG is left alone: that variable serves other commands.
 */
const SERVE_IGNORES: readonly (readonly [key: string, flag: string, why: string, fix?: string])[] = [
  ["ce", "--ce", "serve takes its CE and queue from each request"],
  ["queue", "--queue", "serve takes its CE and queue from each request"],
  ["journal", "--journal", "serve takes each CE's options from its request", " and set Journal_File there"],
  ["proxy", "--proxy", "serve takes each CE's proxy from its request"],
  ["metricsFile", "--metrics-file", "serve runs until stopped", " and use serve --metrics-port"],
  ["json", "--json", "serve always answers in JSON-RPC on stdout"],
  ["config", "--config", "serve takes each CE's options from its request"],
];

export function addToolCommands(program: Command, runner: CommandRunner): void {
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
    .option("--memory <mb>", "guest memory in MB (default 1024, 128-1048576)", memoryMb)
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
            ...definedProps({ image: opts.image, accel: opts.accel }),
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
      runner.ownAction(
        async (opts: { stdio?: boolean; drainSeconds?: number; metricsPort?: number }, globals, io, cmd) => {
          const ignored = SERVE_IGNORES.find(([key]) => cmd.getOptionValueSourceWithGlobals(key) === "cli");
          if (ignored) runner.usage(`${ignored[1]}: ${ignored[2]}; drop ${ignored[1]}${ignored[3] ?? ""}`);
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
        },
      ),
    );
}
