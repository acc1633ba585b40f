/** CLI output: aligned tables for people, JSON for scripts; every line passes the secret scrubber. */

import { scrubSecrets } from "../secrets.js";

export interface Output {
  readonly json: boolean;
  /** A result: a table (people) or the raw value (scripts). */
  result(value: unknown, table?: () => string): void;
  /** A progress or status line on stderr, for people only. */
  progress(line: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(value, table) {
      const text = json || !table ? JSON.stringify(value, null, 2) : table();
      stdout.write(`${scrubSecrets(text)}\n`);
    },
    progress(line) {
      if (!json) stderr.write(`${scrubSecrets(line)}\n`);
    },
  };
}

/** Left-aligned columns, two spaces apart, with a header row. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}
