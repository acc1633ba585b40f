/** The benchmark's workloads: ids, the variants each has, and how to run one variant. */
import type { Measurement, Variant } from "../measure.js";
import type { BenchOptions } from "../options.js";
import { TEMPLATE } from "../template-path.js";
import { CLOUD_WORKLOADS, runCloudWorkload } from "./cloud.js";
import { renderWorkload } from "./render.js";

export interface Workload {
  /** e.g. `openstack/submit`; `npm run bench -- <substring>` selects by it. */
  readonly id: string;
  readonly variants: readonly Variant[];
  run(variant: Variant, options: BenchOptions): Promise<Measurement>;
}

export { TEMPLATE };

const clouds = (["openstack", "ec2"] as const).flatMap((kind) =>
  CLOUD_WORKLOADS.filter((w) => kind === "openstack" || w.name !== "submit-default-rate").map(
    (spec): Workload => ({ id: `${kind}/${spec.name}`, variants: spec.variants, run: (variant, options) => runCloudWorkload(kind, spec, variant, options) }),
  ),
);

export const WORKLOADS: readonly Workload[] = [
  { id: "render", variants: ["ours"], run: () => renderWorkload(TEMPLATE) },
  ...clouds,
];
