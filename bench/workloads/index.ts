/** The benchmark's workloads; each returns measurements for ours and, where it applies, the baseline. */
import { fileURLToPath } from "node:url";
import type { Measurement } from "../measure.js";
import { renderWorkload } from "./render.js";

export interface Workload {
  readonly id: string;
  run(): Promise<Measurement[]>;
}

/** The repository's default template (the bench runs from .bench-dist, away from templates/). */
export const TEMPLATE = fileURLToPath(new URL("../../../templates/default.yaml.hbs", import.meta.url));

export const WORKLOADS: readonly Workload[] = [
  { id: "render", run: async () => [await renderWorkload(TEMPLATE)] },
];
