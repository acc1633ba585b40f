/**
 * The human form of a {@link ReportSummary}: plain aligned text, readable in
 * a terminal, a mail from cron, or a ticket.
 */

import type { ReportSummary } from "./report.js";

/** `3d04h`, `2h05m`, `7m30s`, `42s`: two units at most, for humans. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const sec = s % 60;
  const two = (n: number): string => String(n).padStart(2, "0");
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m`;
  if (m > 0) return `${m}m${two(sec)}s`;
  return `${sec}s`;
}

/** Left column of `label` padded, then the value right-aligned. */
function line(label: string, value: string | number, note = ""): string {
  return `  ${label.padEnd(22)}${String(value).padStart(8)}${note ? `  ${note}` : ""}`;
}

/** A multi-line table of the summary, ending with a newline. */
export function formatReportTable(r: ReportSummary): string {
  const out: string[] = [`Pilot report at ${r.generatedAt}`, "", "Pilots"];
  out.push(
    line("submitted", r.submitted, r.submitFailures > 0 ? `(${r.submitFailures} failed submissions not counted)` : ""),
  );
  out.push(line("running", r.running), line("done", r.done), line("aborted", r.aborted));
  if (r.unknown > 0) out.push(line("unknown", r.unknown, "(not deleted, not listed by the cloud)"));
  out.push("", "Cleaned (VMs deleted)");
  out.push(line("total", r.cleaned.total, r.deleteFailures > 0 ? `(${r.deleteFailures} failed deletes)` : ""));
  for (const [reason, n] of Object.entries(r.cleaned.byReason).sort((a, b) => b[1] - a[1]))
    out.push(line(`  ${reason}`, n));
  out.push("", "VM lifetime");
  const lt = r.lifetimeSeconds;
  if (lt) {
    out.push(line("VMs ended", lt.count));
    for (const k of ["min", "median", "p90", "max"] as const) out.push(line(k, formatDuration(lt[k])));
  } else {
    out.push("  no VM has ended yet");
  }
  out.push(line("VM-hours", r.vmHours.toFixed(2)));
  const decisions = Object.entries(r.policyDecisions).sort((a, b) => b[1] - a[1]);
  if (decisions.length > 0) out.push("", "Policy decisions", ...decisions.map(([name, n]) => line(name, n)));
  if (r.rows.length > 0) out.push("", ...rowsTable(r));
  return `${out.join("\n")}\n`;
}

function rowsTable(r: ReportSummary): string[] {
  const header = ["CE", "queue", "submitted", "running", "done", "aborted", "unknown"];
  const cells = r.rows.map((row) => [
    row.ce || "(not in journal)",
    row.queue || "-",
    ...[row.submitted, row.running, row.done, row.aborted, row.unknown].map(String),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]): string =>
    `  ${c.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")}`.trimEnd();
  return ["Per CE/queue", fmt(header), ...cells.map(fmt)];
}
