/**
 * One cloud workload's run: the spec a workload gives (seed, variants, how
 * "ours" and the baseline run it) and the run of one variant on a fresh
 * cloud process.
 */

import type { CloudDriver } from "../../src/drivers/driver.js";
import type { CloudComputingElement, Result } from "../../src/ce/index.js";
import { ceFilter, type SerialRun } from "../baseline.js";
import { benchSite, CE_NAME, CLOUD_TYPE, QUEUE, type BenchSite } from "../ce-setup.js";
import { startBenchCloud, type BenchCloud } from "../cloud.js";
import type { CloudKind, SeedSpec } from "../cloud-protocol.js";
import { peakRssMb, type Measurement, type Variant } from "../measure.js";
import type { BenchOptions } from "../options.js";
import { definedProps } from "../../src/util/defined.js";

export interface CloudRun {
  readonly cloud: BenchCloud;
  readonly site: BenchSite;
  readonly options: BenchOptions;
  /** Ids of the seeded VMs, in seed order. */
  readonly seeded: readonly string[];
  /** The baseline's driver, logged in already. */
  readonly driver: CloudDriver;
}

export interface CloudWorkloadSpec {
  /** Short id suffix, e.g. `submit`. */
  readonly name: string;
  readonly title: string;
  readonly seed?: readonly SeedSpec["groups"][number][];
  readonly variants: readonly Variant[];
  /** Extra CE options for "ours". */
  readonly ceOptions?: Record<string, string>;
  ours?(run: CloudRun, ce: CloudComputingElement): Promise<{ wallMs: number; cpuMs: number; notes: string }>;
  baseline?(run: CloudRun): Promise<SerialRun & { notes: string }>;
}

export function ok<T>(r: Result<T>, what: string): T {
  if (!r.OK) throw new Error(`${what} failed: ${r.Message}`);
  return r.Value;
}

/**
 * Runs one workload variant on a fresh cloud of the given kind. The CE (or
 * the baseline's driver) first lists the still empty cloud: that loads the
 * driver's modules and logs in, once-per-process costs that are not the
 * operation's. Then the cloud is seeded and its counters reset.
 */
export async function runCloudWorkload(
  kind: CloudKind,
  spec: CloudWorkloadSpec,
  variant: Variant,
  options: BenchOptions,
): Promise<Measurement> {
  const cloud = await startBenchCloud(kind, {
    latencyMs: options.latencyMs,
    serverCallsPerSecond: options.serverCallsPerSecond,
  });
  const site = await benchSite(cloud, {
    concurrency: options.concurrency,
    clientCallsPerSecond: options.clientCallsPerSecond,
  });
  const ce = variant === "ours" ? await site.newCe(spec.ceOptions) : undefined;
  const driver = await site.newDriver();
  try {
    if (ce) ok(await ce.getCEStatus(), "warm-up getCEStatus");
    else await driver.listNodes(ceFilter(CE_NAME, site.namePrefix));
    const seeded = spec.seed
      ? await cloud.seed({ ceName: CE_NAME, queue: QUEUE, namePrefix: site.namePrefix, groups: spec.seed })
      : [];
    await cloud.resetCounts();
    const run: CloudRun = { cloud, site, options, seeded, driver };
    const base = { workload: spec.title, variant, cloud: CLOUD_TYPE[kind] };
    if (!ce) {
      const r = await spec.baseline!(run);
      return {
        ...base,
        wallMs: r.wallMs,
        cpuMs: r.cpuMs,
        cloudCalls: r.cloudCalls,
        throttled: r.throttled,
        callsByRoute: r.byRoute,
        peakRssMb: peakRssMb(),
        notes: r.notes,
        ...definedProps({ cloudBytes: r.bytes }),
        ...(r.extrapolated ? { extrapolated: r.extrapolated } : {}),
      };
    }
    const r = await spec.ours!(run, ce);
    const counts = await cloud.counts();
    return {
      ...base,
      wallMs: r.wallMs,
      cpuMs: r.cpuMs,
      cloudCalls: counts.total,
      throttled: counts.throttled,
      callsByRoute: counts.byRoute,
      peakRssMb: peakRssMb(),
      notes: r.notes,
      ...definedProps({ cloudBytes: counts.bytes }),
    };
  } finally {
    await ce?.shutdown();
    await driver.close();
    await site.remove();
    await cloud.stop();
  }
}
