/**
 * The `cloudce` command line, declared with commander: global options, one
 * subcommand per operation, each with its own help (`cloudce submit --help`)
 * and usage errors. The declarations live in program-*.ts, the actions in
 * the commands-*.ts files.
 */

import { Command, Option } from "commander";
import { LOG_LEVELS } from "../log.js";
import { CLOUDCE_VERSION } from "../version.js";
import type { CommandRunner } from "./command-runner.js";
import { addExamples } from "./help-examples.js";
import { addPilotCommands } from "./program-pilots.js";
import { addToolCommands } from "./program-tools.js";

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

const DEFAULT_CONFIG = "etc/local.conf";

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
    .option("--json", "machine-readable output; errors as {OK, Message, Code} on stdout")
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

  addPilotCommands(program, runner);
  addToolCommands(program, runner);
  addExamples(program);
  return program;
}
