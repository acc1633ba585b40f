/** The benchmark's workloads: ids, the variants each has, and how to run one variant. */
import type { Measurement, Variant } from "../measure.js";
import type { BenchOptions } from "../options.js";
import { TEMPLATE } from "../template-path.js";
import { bridgeWorkload } from "./bridge.js";
import { CLOUD_WORKLOADS } from "./cloud.js";
import { runCloudWorkload } from "./cloud-run.js";
import { renderWorkload } from "./render.js";

export interface Workload {
  /** e.g. `openstack/submit`; `npm run bench -- <substring>` selects by it. */
  readonly id: string;
  readonly variants: readonly Variant[];
  run(variant: Variant, options: BenchOptions): Promise<Measurement>;
}

export { TEMPLATE };

/** What the client-side rate limit changes shows on a cloud with one call per VM; EC2 batches. */
const OPENSTACK_ONLY = new Set([
  "submit-default-rate",
  "cleanup-default-rate",
  "cleanup-c32-no-limit",
  "cleanup-c32-limit",
  "status-shared",
  "kill-pilotmanager",
]);
/** GCE: a bulk insert of 200, the status of 1000 (two pages of 500), cleanup of 1000. */
const GCE_WORKLOADS = new Set(["submit", "status", "cleanup"]);

/** KUBERNETES: a submit of 200 pods (pod and Secret each), the status of 1000, cleanup of 1000; ours only (the serial baseline renders a cloud-config). */
const KUBERNETES_WORKLOADS = new Set(["submit", "status", "cleanup"]);

/** AZURE: a scale set of 200 in one PUT, the status of 1000 (one listing), cleanup of 1000 (one DELETE each). */
const AZURE_WORKLOADS = new Set(["submit", "status", "cleanup"]);

const runsOn = (kind: "openstack" | "ec2" | "gce" | "kubernetes" | "azure", name: string): boolean =>
  kind === "openstack" ||
  (kind === "gce"
    ? GCE_WORKLOADS.has(name)
    : kind === "azure"
      ? AZURE_WORKLOADS.has(name)
      : kind === "kubernetes"
        ? KUBERNETES_WORKLOADS.has(name)
        : !OPENSTACK_ONLY.has(name));

const clouds = (["openstack", "ec2", "gce", "kubernetes", "azure"] as const).flatMap((kind) =>
  CLOUD_WORKLOADS.filter((w) => runsOn(kind, w.name)).map(
    (spec): Workload => ({
      id: `${kind}/${spec.name}`,
      variants: kind === "kubernetes" ? spec.variants.filter((v) => v === "ours") : spec.variants,
      run: (variant, options) => runCloudWorkload(kind, spec, variant, options),
    }),
  ),
);

export const WORKLOADS: readonly Workload[] = [
  { id: "render", variants: ["ours"], run: () => renderWorkload(TEMPLATE, true) },
  { id: "render-ascii", variants: ["ours"], run: () => renderWorkload(TEMPLATE, false) },
  // The DIRAC plugin's bridge: `npm run bench -- bridge` runs both rows.
  { id: "bridge/direct", variants: ["ours"], run: () => bridgeWorkload("direct") },
  { id: "bridge/serve", variants: ["ours"], run: () => bridgeWorkload("serve") },
  ...clouds,
];
