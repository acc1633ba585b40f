/** The benchmark's table: one row per workload and cloud, ours beside the baseline. */
import type { Measurement } from "./measure.js";

const HEAD = [
  "workload",
  "cloud",
  "ours ms",
  "base ms",
  "speed-up",
  "ours calls",
  "base calls",
  "fewer calls",
  "429s",
  "ours CPU ms",
  "peak RSS MB",
];

export function formatResults(results: readonly Measurement[]): string {
  const rows: string[][] = [HEAD];
  const keys = [...new Set(results.map((r) => `${r.workload}\u0000${r.cloud}`))];
  for (const key of keys) {
    const [workload, cloud] = key.split("\u0000") as [string, string];
    const ours = results.find((r) => r.workload === workload && r.cloud === cloud && r.variant === "ours");
    const base = results.find((r) => r.workload === workload && r.cloud === cloud && r.variant === "baseline");
    const approx = base?.extrapolated ? "~" : "";
    rows.push([
      workload,
      cloud,
      fmt(ours?.wallMs),
      approx + fmt(base?.wallMs),
      approx + ratio(base?.wallMs, ours?.wallMs),
      String(ours?.cloudCalls ?? ""),
      approx + String(base?.cloudCalls ?? ""),
      approx + ratio(base?.cloudCalls, ours?.cloudCalls),
      String(ours?.throttled ?? ""),
      fmt(ours?.cpuMs),
      fmt(ours?.peakRssMb),
    ]);
  }
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows
    .map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
    .join("\n");
  const notes = [
    ...results
      .filter((r) => r.extrapolated)
      .map(
        (r) =>
          `~ ${r.workload} on ${r.cloud}: baseline sampled ${r.extrapolated!.sampled} of ${r.extrapolated!.of} steps and extrapolated`,
      ),
    ...results.filter((r) => r.notes?.startsWith("per call:")).map((r) => `${r.workload}: ${r.notes!}`),
    ...results
      .filter((r) => r.notes?.startsWith("by tag:") || /\blogins?\b/.test(r.notes ?? ""))
      .map((r) => `${r.workload} (${r.variant}): ${r.notes!}`),
    ...results
      .filter((r) => r.notes?.includes("floor ("))
      .map((r) => `= ${r.workload} on ${r.cloud}: ${r.notes!.slice(r.notes!.indexOf("floor ("))}`),
    ...results
      .filter((r) => r.notes?.includes("FAILED"))
      .map(
        (r) =>
          `! ${r.workload} on ${r.cloud} (${r.variant}): ${r.notes!.slice(r.notes!.indexOf("FAILED") - 20).replace(/^[^;]*; /, "")}`,
      ),
  ];
  return notes.length > 0 ? `${table}\n\n${notes.join("\n")}` : table;
}

const fmt = (v: number | undefined): string => (v === undefined ? "" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (base: number | undefined, ours: number | undefined): string =>
  base === undefined || ours === undefined || ours === 0 ? "" : `${(base / ours).toFixed(1)}x`;
