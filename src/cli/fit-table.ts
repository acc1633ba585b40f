/**
 * Tables that fit a terminal's 80 columns without losing what tells rows
 * apart: a cell that must shrink keeps its start and its end
 * (`DIRAC_PI…4fb1641f`: a VM name's unique suffix, `…/etc/ce.conf:12`: a
 * file's name and line), and the columns that can best spare it shrink first.
 */

import { formatTable } from "./output.js";

const TERMINAL_COLUMNS = 80;

/**
 * `DIRAC_PILOT_LONGNAME_4fb1641f` in 14 → `DIRA…_4fb1641f`: a third of the
 * room for the start, the rest for the end, where names differ (a VM's unique
 * suffix, a file's name and line).
 */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, max);
  const head = Math.floor((max - 1) / 3);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

export interface Shrinkable {
  /** Column index. */
  readonly column: number;
  /** Narrowest it may get. */
  readonly min: number;
}

/** Like formatTable, but middle-clips the `shrink` columns (in that order of preference) until a line fits `width`. */
export function fitTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  shrink: readonly Shrinkable[],
  width = TERMINAL_COLUMNS,
): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  let excess = widths.reduce((s, w) => s + w, 0) + 2 * (headers.length - 1) - width;
  for (const { column, min } of shrink) {
    if (excess <= 0) break;
    const spare = Math.max(0, widths[column]! - Math.max(min, headers[column]!.length));
    const cut = Math.min(spare, excess);
    widths[column]! -= cut;
    excess -= cut;
  }
  return formatTable(
    headers,
    cells.map((r) => r.map((c, i) => clipMiddle(c, widths[i]!))),
  );
}
