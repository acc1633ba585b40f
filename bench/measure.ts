/** What every benchmark workload reports. */

export interface Measurement {
  readonly workload: string;
  /** `ours` or `baseline` (DIRAC's serial call pattern). */
  readonly variant: "ours" | "baseline";
  readonly cloud: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Cloud API calls, as the server counted them (0 where no cloud is involved). */
  readonly cloudCalls: number;
  /** Peak resident set of the workload's own process. */
  readonly peakRssMb: number;
  readonly notes?: string;
}

/** Runs `fn` and measures wall and CPU time. */
export async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export function peakRssMb(): number {
  // maxRSS is in kilobytes on Linux.
  return process.resourceUsage().maxRSS / 1024;
}
