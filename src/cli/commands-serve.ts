/**
 * `cloudce serve --stdio`: cloudce as a long-lived child speaking JSON-RPC on
 * stdin/stdout (docs/serve-protocol.md), for the DIRAC CE plugin.
 */

import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { CloudceError, toCloudceError } from "../errors.js";
import { LOG_LEVELS, type LogLevel } from "../log.js";
import { serve } from "../serve/server.js";
import { CLOUDCE_VERSION } from "../version.js";

const SERVE_USAGE = `Usage: cloudce serve --stdio [--drain-seconds N] [--log-level L]

Speaks JSON-RPC 2.0 on stdin/stdout, one object per line (docs/serve-protocol.md).
stdout carries protocol only; logs go to stderr as JSON lines, or to the client.
On stdin EOF, SIGTERM or SIGINT, or when its parent exits, it waits for running
requests (at most --drain-seconds; by default the largest Cloud_RequestTimeout
of its open CEs plus 30 s), closes every CE and exits 0.
`;

export async function serveCommand(
  argv: readonly string[],
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let values: ReturnType<typeof parseServeArgs>["values"];
  try {
    ({ values } = parseServeArgs([...argv]));
    if (values.help) {
      stderr.write(SERVE_USAGE);
      return 0;
    }
    if (!values.stdio) throw new CloudceError("OptionInvalid", "--stdio is required (the only transport)");
  } catch (err) {
    stderr.write(`cloudce serve: ${toCloudceError(err).message}\n${SERVE_USAGE}`);
    return 2;
  }
  const drain = values["drain-seconds"];
  const level = values["log-level"] as LogLevel;
  if (drain !== undefined && !/^\d+$/.test(drain))
    return usageError(stderr, `--drain-seconds: '${drain}' is not a whole number of seconds`);
  if (!LOG_LEVELS.includes(level)) return usageError(stderr, `--log-level: use one of ${LOG_LEVELS.join(", ")}`);

  // Protocol gets its own stream on fd 1; anything else that writes to stdout goes to stderr.
  const protocolOut = createWriteStream("", { fd: 1, autoClose: false });
  guardStdout();
  // SIGTERM/SIGINT end it like stdin EOF: submissions stop starting VMs and answer what they made.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  await serve({
    input: process.stdin,
    output: protocolOut,
    errorStream: process.stderr,
    serverName: `cloudce ${CLOUDCE_VERSION}`,
    logLevel: level,
    ...(drain === undefined ? {} : { drainMs: Number(drain) * 1000 }),
    parentPid: process.ppid,
    stop: stop.signal,
  });
  // Anything left (a driver's keep-alive socket, an abandoned request) must not keep us alive.
  process.stdin.destroy();
  setTimeout(() => process.exit(0), 200).unref();
  return 0; // every way of ending (EOF, parent gone, signal) is an orderly one
}

function usageError(stderr: NodeJS.WritableStream, message: string): number {
  stderr.write(`cloudce serve: ${message}\n`);
  return 2;
}

function guardStdout(): void {
  const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.stdout.write = toStderr;
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
}

function parseServeArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    options: {
      stdio: { type: "boolean", default: false },
      "drain-seconds": { type: "string" },
      "log-level": { type: "string", default: "info" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
