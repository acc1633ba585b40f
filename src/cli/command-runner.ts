/**
 * What every command's action shares: the global options, the logger, the
 * CE opened from `--config` (with `--journal` and `--proxy` applied), and
 * its shutdown. Also turns the parser's own errors into usage errors.
 */

import { readFile } from "node:fs/promises";
import { type Command, CommanderError } from "commander";
import type { CloudComputingElement } from "../ce/index.js";
import type { LoadedCeOptions } from "../config/ce-config.js";
import type { ActionFlags, CliIo, CommandContext, CommandHooks } from "./command-context.js";
import { abandonedAt, onSignals } from "./command-interrupt.js";
import { whereOptionBelongs } from "./misplaced-option.js";
import { type CloudceError, toCloudceError, withMessage } from "../errors.js";
import { createLogger, stderrSink, type Logger } from "../log.js";
import { UsageError } from "./cli-errors.js";
import { loadOptions, openCe, openCeForValidation, openCePerQueue, type OpenedCe } from "./load-ce.js";
import { createOutput, isTerminal, type Output } from "./output.js";
import { EXIT_PARTIAL } from "./exit-codes.js";
import { checkReadableFile, checkWritableFile } from "./path-checks.js";
import type { GlobalOptions } from "./program.js";

export class CommandRunner {
  /** The status a command chose itself (serve), when it did. */
  exitCode: number | undefined;
  /** The parser's own message for a usage error, caught before commander throws. */
  parserMessage: string | undefined;
  /** 130/143 once a stop signal reached the command: it wins over the error a stopped call ends with. */
  interruptedCode: number | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly hooks: CommandHooks,
  ) {}

  private program: Command | undefined;
  /** The arguments being parsed (to tell where a misplaced option stood). */
  argv: readonly string[] | undefined;

  /** Parser errors and help go through our streams; nothing exits the process. */
  configure(program: Command): void {
    this.program = program;
    program.exitOverride().configureOutput({
      writeOut: (s) => this.io.stdout.write(s),
      // Commander writes help to stderr only when it is an error (no command given): one line says that instead.
      writeErr: () => undefined,
      outputError: (s) => {
        // Our value checks end in a full stop; the "; see … --help" that follows must not double it.
        this.parserMessage = s
          .replace(/^error: /, "")
          .trim()
          .replace(/\.$/, "");
      },
    });
  }

  /** Serves this process's metrics on 127.0.0.1:port/metrics; resolves to the function that stops it. */
  serveMetrics(port: number): Promise<() => Promise<void>> {
    return this.hooks.serveMetrics(port);
  }

  /** Fails the command as a usage error (exit 2). */
  usage(message: string): never {
    throw new UsageError(message);
  }

  action<O extends object, A extends unknown[]>(
    fn: (ctx: CommandContext, opts: O, ...args: A) => Promise<unknown>,
    flags: ActionFlags = {},
  ): (...args: unknown[]) => Promise<void> {
    return async (...args) => {
      const command = args.at(-1) as Command;
      const opts = args.at(-2) as O;
      const positionals = args.slice(0, -2) as A;
      const globals = command.optsWithGlobals() as unknown as GlobalOptions;
      const out = createOutput(globals.json === true, this.io);
      // validate reports option problems itself: the CE's warnings about them would say it twice.
      const logger = this.logger(globals, flags.loop?.(opts) === true, flags.validation === true);
      await checkConfig(globals);
      const overrides: Record<string, string> = {};
      if (globals.journal !== undefined) {
        await checkWritableFile(globals.journal, "--journal");
        overrides["Journal_File"] = globals.journal;
      }
      if (globals.metricsFile !== undefined) await checkWritableFile(globals.metricsFile, "--metrics-file");
      const ceOptions = this.hooks.ceOptions(globals, out);
      const opened: OpenedCe[] = flags.perQueue
        ? await openCePerQueue(selection(globals), logger, overrides, ceOptions)
        : [await (flags.validation ? openCeForValidation : openCe)(selection(globals), logger, overrides, ceOptions)];
      const { ce, loaded, problems } = opened[0]!;
      const ces = opened.map((o) => o.ce);
      // A loop handles its own signals (runEvery); any other command turns them into an abort.
      const interrupt = flags.loop?.(opts) === true ? undefined : onSignals(this.io.signal, out);
      const signal = interrupt?.signal ?? this.io.signal;
      try {
        if (globals.proxy !== undefined) for (const c of ces) await applyProxy(c, globals.proxy);
        const work = fn(
          {
            ce,
            ces,
            out,
            logger,
            loaded,
            problems,
            globals,
            signal,
            serveMetrics: (p) => this.hooks.serveMetrics(p),
            io: this.io,
          },
          opts,
          ...positionals,
        );
        const outcome =
          interrupt && flags.stopsItself?.(opts) !== true ? await abandonedAt(work, interrupt.signal) : await work;
        if (outcome === "partial") this.exitCode = EXIT_PARTIAL;
      } finally {
        this.interruptedCode = interrupt?.stop.exitCode();
        if (this.interruptedCode !== undefined) this.exitCode = this.interruptedCode;
        interrupt?.dispose();
        out.tickerDone();
        await this.hooks.afterCommand(ce, globals).finally(() => {
          const shut = Promise.all(ces.map((c) => c.shutdown()));
          // Interrupted: a call still hanging (a login) must not hold the exit for its timeout.
          if (this.interruptedCode === undefined) return shut;
          void shut.catch(() => undefined);
          return undefined;
        });
      }
    };
  }

  /** A command that runs on its own terms (its own CEs, streams and exit status): `serve`. */
  ownAction<O extends object>(
    fn: (opts: O, globals: GlobalOptions, io: CliIo, command: Command) => Promise<number>,
  ): (...args: unknown[]) => Promise<void> {
    return async (...args) => {
      const command = args.at(-1) as Command;
      const globals = command.optsWithGlobals() as unknown as GlobalOptions;
      this.exitCode = await fn(args.at(-2) as O, globals, this.io, command);
    };
  }

  /** A command that reads the configuration and builds its own CE (try). */
  loadedAction<O extends object>(
    fn: (
      ctx: { loaded: LoadedCeOptions; out: Output; logger: Logger; globals: GlobalOptions; io: CliIo },
      opts: O,
    ) => Promise<void>,
  ): (...args: unknown[]) => Promise<void> {
    return async (...args) => {
      const globals = (args.at(-1) as Command).optsWithGlobals() as unknown as GlobalOptions;
      const out = createOutput(globals.json === true, this.io);
      await checkConfig(globals);
      await fn(
        {
          loaded: await loadOptions(selection(globals)),
          out,
          logger: this.logger(globals, false, false),
          globals,
          io: this.io,
        },
        args.at(-2) as O,
      );
    };
  }

  /** A command that only reads the configuration (no CE, no cloud). */
  configAction(fn: (loaded: LoadedCeOptions, out: Output) => void): (...args: unknown[]) => Promise<void> {
    return async (...args) => {
      const globals = (args.at(-1) as Command).optsWithGlobals() as unknown as GlobalOptions;
      await checkConfig(globals);
      fn(await loadOptions(selection(globals)), createOutput(globals.json === true, this.io));
    };
  }

  private logger(globals: GlobalOptions, loop: boolean, quietWarnings: boolean): Logger {
    const level = globals.logLevel ?? (loop ? "info" : "warn");
    return createLogger({
      level: quietWarnings && level === "warn" ? "error" : level,
      sink: stderrSink(isTerminal(this.io.stderr), this.io.stderr),
    });
  }

  /** A usage line for an option given in the wrong place, when that is what the parser tripped on. */
  private misplacedOption(err: CommanderError, command: string | undefined): string | undefined {
    if (err.code !== "commander.unknownOption" || !this.program || !this.argv) return undefined;
    const flag = /unknown option '([^'=]+)/.exec(this.parserMessage ?? err.message)?.[1];
    return flag === undefined ? undefined : whereOptionBelongs(this.program, flag, command, this.argv);
  }

  /** A parser error as a CloudceError (exit 2), or undefined for help and version output (exit 0). */
  parserError(err: CommanderError, command: string | undefined): CloudceError | undefined {
    if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version")
      return undefined;
    if (err.code === "commander.help") return new UsageError("no command given; see cloudce --help");
    const misplaced = this.misplacedOption(err, command);
    if (misplaced) return new UsageError(misplaced);
    return new UsageError(
      `${this.parserMessage ?? err.message.replace(/^error: /, "")}; see cloudce ${command ? `${command} ` : ""}--help`,
    );
  }
}

function selection(g: GlobalOptions): { config: string; ce?: string; queue?: string } {
  return { config: g.config, ...(g.ce ? { ce: g.ce } : {}), ...(g.queue ? { queue: g.queue } : {}) };
}

function checkConfig(g: GlobalOptions): Promise<void> {
  return checkReadableFile(
    g.config,
    "--config",
    "the CE configuration file (flat Key = Value or DIRAC CFG), or set $CLOUDCE_CONFIG",
  );
}

async function applyProxy(ce: CloudComputingElement, path: string): Promise<void> {
  await checkReadableFile(path, "--proxy", "the proxy PEM file");
  const pem = await readFile(path, "utf8");
  await ce.core.setProxy(pem, 0, path).catch((err: unknown) => {
    const e = toCloudceError(err, "ProxyInvalid");
    throw withMessage(e, `--proxy: ${e.message}`);
  });
}

export { CommanderError };
export type { ActionFlags, CliIo, CommandContext, CommandHooks };
