/** The benchmark's table: one row per workload and cloud, ours beside the baseline. */
import type { Measurement } from "./measure.js";

export function formatResults(results: readonly Measurement[]): string {
  const rows: string[][] = [["workload", "cloud", "ours ms", "base ms", "speed-up", "ours calls", "base calls", "calls ratio", "ours CPU ms", "peak RSS MB"]];
  const keys = [...new Set(results.map((r) => `${r.workload}\u0000${r.cloud}`))];
  for (const key of keys) {
    const [workload, cloud] = key.split("\u0000") as [string, string];
    const ours = results.find((r) => r.workload === workload && r.cloud === cloud && r.variant === "ours");
    const base = results.find((r) => r.workload === workload && r.cloud === cloud && r.variant === "baseline");
    rows.push([
      workload, cloud, fmt(ours?.wallMs), fmt(base?.wallMs), ratio(base?.wallMs, ours?.wallMs),
      String(ours?.cloudCalls ?? ""), String(base?.cloudCalls ?? ""), ratio(base?.cloudCalls, ours?.cloudCalls),
      fmt(ours?.cpuMs), fmt(ours?.peakRssMb),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

const fmt = (v: number | undefined): string => (v === undefined ? "" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (base: number | undefined, ours: number | undefined): string =>
  base === undefined || ours === undefined || ours === 0 ? "" : `${(base / ours).toFixed(1)}x`;
