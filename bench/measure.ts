/** What every benchmark workload reports, and how wall and CPU time are taken. */

export type Variant = "ours" | "baseline";

export interface Measurement {
  readonly workload: string;
  /** `ours` or `baseline` (DIRAC's serial call pattern). */
  readonly variant: Variant;
  readonly cloud: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Cloud API calls, as the server counted them (0 where no cloud is involved). */
  readonly cloudCalls: number;
  /** Calls the server's rate limit refused (counted in cloudCalls too). */
  readonly throttled?: number;
  /** Calls per route or action, as the server counted them. */
  readonly callsByRoute?: Readonly<Record<string, number>>;
  /** Response bytes the cloud sent (OpenStack). */
  readonly cloudBytes?: number;
  /** Peak resident set of the workload's own process (the cloud runs in another). */
  readonly peakRssMb: number;
  /** Set when a serial baseline was sampled and scaled up (`--quick`). */
  readonly extrapolated?: { readonly sampled: number; readonly of: number };
  readonly notes?: string;
}

export interface Timed<T> {
  readonly value: T;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs `fn` and measures wall and CPU time. */
export async function measure<T>(fn: () => Promise<T>): Promise<Timed<T>> {
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
