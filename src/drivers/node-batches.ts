/**
 * A CE batch as the drivers with a multi-VM create see it: the specs of a
 * request that share a name, sent as one call (a scale set, a bulk insert).
 */

import { CloudceError } from "../errors.js";
import type { NodeSpec } from "./node-types.js";

export interface NodeBatch {
  readonly spec: NodeSpec;
  count: number;
}

/** The request's specs grouped by name, in request order; the specs of one name must agree on user-data and metadata. */
export function batchesByName(nodes: readonly NodeSpec[], driver: string): NodeBatch[] {
  const byName = new Map<string, NodeBatch>();
  for (const spec of nodes) {
    const b = byName.get(spec.name);
    if (!b) byName.set(spec.name, { spec, count: 1 });
    else if (
      Buffer.compare(b.spec.userData, spec.userData) !== 0 ||
      JSON.stringify(b.spec.metadata) !== JSON.stringify(spec.metadata)
    ) {
      throw new CloudceError(
        "Internal",
        `${driver}: nodes named '${spec.name}' differ in user-data or metadata; one batch has one of each`,
        { driver },
      );
    } else b.count += 1;
  }
  return [...byName.values()];
}
