/** What a batch of server creates comes to: created nodes, and failures named by the batch the CE knows. */

import { CloudceError, type QuotaResource, toCloudceError } from "../../errors.js";
import type { CloudNode, CreateNodesResult, NodeFailure } from "../driver.js";
import { DRIVER_NAME } from "./options.js";

export function failAll(target: string, count: number, err: unknown): NodeFailure[] {
  const error = toCloudceError(err, "CloudError");
  return Array.from({ length: count }, () => ({ target, error }));
}

export function shortfall(name: string, asked: number, got: number, resource: QuotaResource | undefined): CloudceError {
  const which = resource === undefined ? "the project quota" : `the project's ${resource} quota`;
  return new CloudceError(
    "QuotaExceeded",
    `compute POST /servers for batch ${name}: Nova made ${got} of ${asked} servers (${which} allows no more); the missing ones may be submitted again later`,
    { driver: DRIVER_NAME, ...(resource === undefined ? {} : { quotaResource: resource }) },
  );
}

/** Creates the caller's stop kept from being sent: nothing was made for them. */
export function notSent(target: string, count: number): NodeFailure[] {
  const error = new CloudceError(
    "Timeout",
    `compute POST /servers for ${target}: not sent, the submission was stopped first; no server was requested`,
    { driver: DRIVER_NAME, retryable: false },
  );
  return Array.from({ length: count }, () => ({ target, error, notSent: true }));
}

/** Settled creates as created nodes and failures named by their VM names; an item never started was not sent. */
export function settle(
  names: readonly string[],
  settled: readonly (PromiseSettledResult<CloudNode> | undefined)[],
): CreateNodesResult {
  const created: CloudNode[] = [];
  const failed: NodeFailure[] = [];
  settled.forEach((r, i) => {
    if (r === undefined) failed.push(...notSent(names[i]!, 1));
    else if (r.status === "fulfilled") created.push(r.value);
    else failed.push({ target: names[i]!, error: toCloudceError(r.reason, "CloudError") });
  });
  return { created, failed };
}
