/** How a failure reaches the operator: the exit code, and a message in the CLI's words. */

import { CloudceError, type ErrorCode } from "../errors.js";
import { EXIT_FAILED, EXIT_LOCK_HELD, EXIT_USAGE } from "./exit-codes.js";

/** A command used wrongly (flags, arguments): exit code 2, like the parser's own errors. */
export class UsageError extends CloudceError {
  constructor(message: string) {
    super("OptionInvalid", message);
    this.name = "UsageError";
  }
}

/**
 * A failure whose result the command has already printed (`try`'s verdict):
 * exit code 1, and under --json no second document after the first.
 */
export class ReportedFailure extends CloudceError {
  constructor(message: string) {
    super("CloudError", message);
    this.name = "ReportedFailure";
  }
}

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "InvalidReference",
  "ExecutableMissing",
  "UnknownCe",
  "UnknownQueue",
  "CeNotChosen",
  "QueueNotChosen",
]);

/** An error's exit status (see exit-codes.ts): 2 for bad usage, 75 when another cleanup holds the lock, else 1. */
export function exitCode(e: CloudceError): number {
  if (e.code === "LockHeld") return EXIT_LOCK_HELD;
  // In the CLI an unusable executable is always the file --executable named, a CE or queue that cannot be
  // selected always --ce or --queue.
  return e instanceof UsageError || USAGE_CODES.has(e.code) ? EXIT_USAGE : EXIT_FAILED;
}
