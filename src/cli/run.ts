/**
 * The `cloudce` command's logic, callable in-process (tests, embedders).
 * Exit codes: see exit-codes.ts (one table for every command).
 * A failure is one line on stderr (`cloudce <command>: <what>`), or with
 * `--json` one `{OK: false, Message, Code}` document on stdout (the shape `serve` and the CE give).
 */

import { CommanderError } from "commander";
import { toCloudceError, type CloudceError } from "../errors.js";
import { scrubSecrets } from "../secrets.js";
import { errorResult } from "../ce/results.js";
import { ReportedFailure, exitCode } from "./cli-errors.js";
import { CommandRunner, type CliIo } from "./command-runner.js";
import { cliHooks } from "./cli-hooks.js";
import { buildProgram } from "./program.js";

export type CliStreams = CliIo;

export async function run(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const runner = new CommandRunner(io, cliHooks(io));
  const program = buildProgram(runner);
  const command = argv.find((a) => program.commands.some((c) => c.name() === a));
  runner.argv = argv;
  try {
    await program.parseAsync([...argv], { from: "user" });
    return runner.exitCode ?? 0;
  } catch (err) {
    const e = err instanceof CommanderError ? runner.parserError(err, command) : toCloudceError(err);
    if (e === undefined) return 0;
    report(e, command, argv.includes("--json"), io);
    return runner.interruptedCode ?? exitCode(e);
  }
}

function report(e: CloudceError, command: string | undefined, json: boolean, io: CliIo): void {
  // A failure whose result document is already on stdout is told on stderr, so stdout stays one document.
  if (json && !(e instanceof ReportedFailure)) {
    io.stdout.write(`${JSON.stringify(errorResult(e))}\n`);
    return;
  }
  io.stderr.write(`cloudce${command ? ` ${command}` : ""}: ${scrubSecrets(e.message)}\n`);
}
