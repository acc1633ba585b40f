/** CLI output: aligned tables for people, JSON for scripts; every line passes the secret scrubber. */

import { scrubSecrets } from "../secrets.js";

export interface Output {
  readonly json: boolean;
  /** A result: a table (people) or the raw value (scripts). */
  result(value: unknown, table?: () => string): void;
  /** A heading before the results that follow it (`demo`'s steps); on stdout, in order with them. */
  section(title: string): void;
  /** A progress or status line on stderr, for people only. */
  progress(line: string): void;
  /** A line that rewrites itself on a terminal (created 40/200); nothing when stderr is not a terminal. */
  ticker(line: string): void;
  /** Ends a ticker line, if one is showing. */
  tickerDone(): void;
  /** Something the operator should know even in --json mode; on stderr. */
  warn(line: string): void;
  /** The same output for a loop: under --json each result is one line, `{"time": …, …}`, so a stream of them can be read line by line. */
  timed(): Output;
}

export interface OutputStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true;
}

export function createOutput(
  json: boolean,
  io: OutputStreams = { stdout: process.stdout, stderr: process.stderr },
  timed = false,
): Output {
  const tty = isTerminal(io.stderr);
  let ticking = false;
  const endTicker = (): void => {
    if (ticking) io.stderr.write("\n");
    ticking = false;
  };
  return {
    json,
    result(value, table) {
      endTicker();
      const text =
        json && timed
          ? JSON.stringify({ time: new Date().toISOString(), ...(value as object) })
          : json || !table
            ? JSON.stringify(value, null, 2)
            : table();
      io.stdout.write(`${scrubSecrets(text)}\n`);
    },
    section(title) {
      if (!json) io.stdout.write(`${scrubSecrets(title)}\n`);
    },
    progress(line) {
      endTicker();
      if (!json) io.stderr.write(`${scrubSecrets(line)}\n`);
    },
    ticker(line) {
      if (json || !tty) return;
      io.stderr.write(`\r\x1b[2K${scrubSecrets(line)}`);
      ticking = true;
    },
    tickerDone: endTicker,
    timed: () => createOutput(json, io, true),
    warn(line) {
      endTicker();
      io.stderr.write(`warning: ${scrubSecrets(line)}\n`);
    },
  };
}

/** Left-aligned columns, two spaces apart, with a header row. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
