/**
 * The `cloudce` command's logic, callable in-process (tests, embedders).
 * Exit codes: 0 success, 1 operation failed, 2 bad usage.
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CloudceError, toCloudceError } from "../errors.js";
import { LOG_LEVELS, createLogger, stderrSink, type LogLevel } from "../log.js";
import { kill, output, status, submit } from "./commands-pilots.js";
import { report, scheduledCleanup } from "./commands-ops.js";
import { EXIT_LOCK_HELD } from "../ops/cleanup-loop.js";
import { config, render, validate } from "./commands-tools.js";
import { demo } from "./commands-demo.js";
import { tryCommand } from "./commands-try.js";
import { serveCommand } from "./commands-serve.js";
import { loadOptions, openCe } from "./load-ce.js";
import { createOutput } from "./output.js";
import { listenForStopSignals } from "./stop-signals.js";
import { USAGE } from "./usage.js";
import { scrubSecrets } from "../secrets.js";

const OPTIONS = {
  config: { type: "string", short: "c", default: process.env["CLOUDCE_CONFIG"] ?? "etc/local.conf" },
  ce: { type: "string" },
  queue: { type: "string", short: "q" },
  json: { type: "boolean", default: false },
  "log-level": { type: "string", default: "warn" },
  number: { type: "string", short: "n", default: "1" },
  executable: { type: "string", short: "e" },
  proxy: { type: "string" },
  all: { type: "boolean", default: false },
  timeout: { type: "string" },
  image: { type: "string" },
  accel: { type: "string" },
  memory: { type: "string" },
  every: { type: "string" },
  jitter: { type: "string" },
  lock: { type: "string" },
  journal: { type: "string" },
  plot: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

export interface CliStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function run(argv: readonly string[], io: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (argv[0] === "serve") return serveCommand(argv.slice(1), io.stderr);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`${scrubSecrets(`cloudce: ${toCloudceError(err).message}`)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const out = createOutput(values.json, io.stdout, io.stderr);
  try {
    return (await dispatch(command, rest, values, out, io)) ?? 0;
  } catch (err) {
    const e = toCloudceError(err);
    io.stderr.write(`${scrubSecrets(`cloudce ${command}: ${e.message}`)}\n`);
    return exitCode(e);
  }
}

/** Runs one command; returns an exit status other than 0 when a signal cut it short. */
async function dispatch(command: string, args: string[], values: Values, out: ReturnType<typeof createOutput>, io: CliStreams): Promise<number | void> {
  const level = values["log-level"] as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new CloudceError("OptionInvalid", `--log-level: use one of ${LOG_LEVELS.join(", ")}`);
  const sel = { config: values.config, ...(values.ce ? { ce: values.ce } : {}), ...(values.queue ? { queue: values.queue } : {}) };
  if (command === "config") return config(await loadOptions(sel), out);
  const human = (io.stderr as NodeJS.WriteStream).isTTY === true;
  const logger = createLogger({ level, sink: stderrSink(human, io.stderr) });
  if (command === "try") return tryCommand(await loadOptions(sel), values.ce, out, logger, tryOptions(values, out, io));
  // Commands that create or delete VMs stop cleanly on SIGINT/SIGTERM (a cleanup loop has its own handling).
  const stop = command === "submit" || (command === "cleanup" && !values.every)
    ? listenForStopSignals((sig) => out.progress(`${sig}: stopping; calls in flight get Cloud_RequestTimeout to finish`))
    : undefined;
  const { ce, loaded } = await openCe(sel, logger, values.journal ? { Journal_File: values.journal } : {});
  try {
    switch (command) {
      case "submit":
        await submit(ce, out, requireExecutable(values), wholeNumber(values.number, "--number"), await readProxy(values.proxy), stop?.signal);
        return stop?.exitCode();
      case "status":
        return await status(ce, out, values.all ? [] : args);
      case "kill":
        return await kill(ce, out, args);
      case "cleanup":
        await scheduledCleanup(ce, out, {
          logger,
          ...(values.every ? { every: values.every } : {}),
          ...(values.jitter ? { jitter: values.jitter } : {}),
          ...(values.lock ? { lock: values.lock } : {}),
          ...(stop ? { signal: stop.signal } : {}),
        });
        return stop?.exitCode();
      case "report":
        return await report(ce, out, values.plot);
      case "output":
        return await output(ce, out, args[0]);
      case "render":
        return await render(ce, out, values.executable);
      case "validate":
        return await validate(ce, out, loaded.origins);
      case "demo":
        return await demo(ce, out, {
          executable: values.executable ?? "etc/pilot-example.sh",
          count: values.number === "1" ? 3 : wholeNumber(values.number, "--number"),
          timeoutMs: wholeNumber(values.timeout ?? "120", "--timeout") * 1000,
        });
      default:
        throw new CloudceError("OptionInvalid", `unknown command '${command}'; see cloudce --help`);
    }
  } finally {
    stop?.release();
    await ce.shutdown();
  }
}

function tryOptions(values: Values, out: ReturnType<typeof createOutput>, io: CliStreams): Parameters<typeof tryCommand>[4] {
  return {
    executable: requireExecutable(values, ""),
    timeoutMs: wholeNumber(values.timeout ?? "900", "--timeout") * 1000,
    ...(values.image ? { image: values.image } : {}),
    ...(values.accel ? { accel: values.accel } : {}),
    ...(values.memory ? { memoryMb: values.memory } : {}),
    ...(out.json ? {} : { console: (chunk: string) => void io.stderr.write(chunk) }),
  };
}

/** 2 for bad usage, 75 (EX_TEMPFAIL) when another cleanup holds the lock, else 1. */
function exitCode(e: CloudceError): number {
  if (e.code === "LockHeld") return EXIT_LOCK_HELD;
  return e.code === "InvalidReference" || e.message.startsWith("unknown command") ? 2 : 1;
}

async function readProxy(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  return readFile(path, "utf8").catch(() => {
    throw new CloudceError("ProxyMissing", `--proxy: cannot read proxy file ${path}`);
  });
}

function requireExecutable(values: Values, prefix = "submit: "): string {
  if (!values.executable) throw new CloudceError("ExecutableMissing", `${prefix}give the pilot executable with --executable FILE`);
  return values.executable;
}

function wholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new CloudceError("OptionInvalid", `${flag}: '${value}' is not a whole number >= 1`);
  return Number(value);
}

