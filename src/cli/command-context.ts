/** What a command's action is given (its context) and what the CLI hooks around each command. */

import type { CloudComputingElement } from "../ce/index.js";
import type { LoadedCeOptions } from "../config/ce-config.js";
import type { Logger } from "../log.js";
import type { CeOptions } from "./load-ce.js";
import type { Output, OutputStreams } from "./output.js";
import type { GlobalOptions } from "./program.js";

export interface CliIo extends OutputStreams {
  /** Stops a `cleanup --every` loop like SIGTERM does (embedding, tests). */
  readonly signal?: AbortSignal;
}

export interface CommandContext {
  readonly ce: CloudComputingElement;
  /**
   * With `perQueue`: one CE object per queue of the CE when no `--queue`
   * names one (`ce` is the first); otherwise just `ce`.
   */
  readonly ces: readonly CloudComputingElement[];
  readonly out: Output;
  readonly logger: Logger;
  readonly loaded: LoadedCeOptions;
  /** Problems found before the CE was built (validate only). */
  readonly problems: readonly string[];
  readonly globals: GlobalOptions;
  /** Aborted by SIGINT/SIGTERM (or the embedder's signal): the CE then starts nothing new and returns what it did. */
  readonly signal: AbortSignal | undefined;
  /** Serves this process's metrics on 127.0.0.1:port/metrics; resolves to the function that stops it. */
  readonly serveMetrics: (port: number) => Promise<() => Promise<void>>;
  /** The command's streams (for output written as it comes: `output --follow`). */
  readonly io: CliIo;
}

export interface ActionFlags {
  /** The command gathers every problem (validate). */
  readonly validation?: boolean;
  /** Whether these options make a long-running loop (its lines default to info level). */
  readonly loop?: (opts: object) => boolean;
  /** Without `--queue`, the command works on every queue of the CE (status, report, cleanup). */
  readonly perQueue?: boolean;
  /**
   * The command hands the stop signal to the CE, which lets creates and deletes in flight
   * finish; any other command is abandoned at the signal (it changes nothing on the cloud).
   */
  readonly stopsItself?: (opts: object) => boolean;
}

/** Hooks the CLI adds around each command: CE options (observers) and what runs after the command. */
export interface CommandHooks {
  ceOptions(globals: GlobalOptions, out: Output): CeOptions;
  serveMetrics(port: number): Promise<() => Promise<void>>;
  afterCommand(ce: CloudComputingElement, globals: GlobalOptions): Promise<void>;
}
