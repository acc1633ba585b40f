/** The lab benchmark's table: per workload, each column's median and worst repetition, and their ratios; the saved samples. */

import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";

export const WORKLOADS = ["submit", "resubmit", "status", "kill", "cleanup", "cleanup-cold", "pilotmanager"] as const;
export type Workload = (typeof WORKLOADS)[number];
export type Variant = "cloudce" | "baseline";
export interface Sample {
  readonly wallMs: number;
  readonly calls: number;
}
/** One repetition's samples: a workload left out of the run (`--workloads`) has none. */
export type Samples = { [W in Workload]?: Sample | undefined };

/** `--workloads a,b`: the workloads to time (every one without the flag). */
export function parseWorkloads(arg: string | undefined): readonly Workload[] {
  if (arg === undefined) return WORKLOADS;
  const names = arg
    .split(",")
    .map((w) => w.trim())
    .filter(Boolean);
  const bad = names.filter((w) => !(WORKLOADS as readonly string[]).includes(w));
  if (bad.length > 0 || names.length === 0)
    throw new Error(`bench:lab: --workloads takes a comma-separated list of ${WORKLOADS.join(", ")} (not "${arg}")`);
  return names as Workload[];
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const worst = (values: readonly number[]): number => Math.max(...values);

export function table(samples: Record<Variant, Samples[]>): string {
  const head = [
    "workload (8 pilots, m1.tiny)",
    "cloudce median",
    "DIRAC median",
    "speed-up",
    "cloudce worst",
    "DIRAC worst",
    "worst vs worst",
    "cloudce calls",
    "DIRAC calls",
    "cloudce runs ms",
    "DIRAC runs ms",
  ];
  const of = (v: Variant, w: Workload): Sample[] => samples[v].flatMap((r) => (r[w] ? [r[w]] : []));
  const measured = WORKLOADS.filter((w) => of("cloudce", w).length > 0 && of("baseline", w).length > 0);
  const rows = measured.map((w) => {
    const [ours, base] = [of("cloudce", w), of("baseline", w)];
    const [om, bm] = [median(ours.map((s) => s.wallMs)), median(base.map((s) => s.wallMs))];
    const [ow, bw] = [worst(ours.map((s) => s.wallMs)), worst(base.map((s) => s.wallMs))];
    const [oc, bc] = [median(ours.map((s) => s.calls)), median(base.map((s) => s.calls))];
    const runs = (xs: Sample[]) => xs.map((s) => s.wallMs.toFixed(0)).join("/");
    return [
      w,
      om.toFixed(0),
      bm.toFixed(0),
      `${(bm / om).toFixed(1)}x`,
      ow.toFixed(0),
      bw.toFixed(0),
      `${(bw / ow).toFixed(1)}x`,
      String(oc),
      String(bc),
      runs(ours),
      runs(base),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
    .join("\n");
}

export function machineLine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}`;
}

export async function saveSamples(file: string, reps: number, samples: Record<Variant, Samples[]>): Promise<void> {
  await mkdir("bench-results", { recursive: true });
  await writeFile(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine: machineLine(), reps, samples }, null, 2),
  );
}
