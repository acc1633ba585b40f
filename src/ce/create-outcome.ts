/**
 * How one create request is built and what its outcome means: whether the
 * cloud refused it for an id gone stale, whether the VM may exist anyway,
 * and whether every further create of the round would be refused too.
 */

import { randomUUID } from "node:crypto";
import { type CloudceError, toCloudceError } from "../errors.js";
import type { CreateNodesRequest, CreateNodesResult, NodeSpec } from "../drivers/driver.js";
import type { ResolvedResources } from "./resource-resolver.js";
import type { Resolve, SubmissionFailure, SubmissionInput } from "./submit.js";

/** One renewed resolution per submission, shared by every create that found its ids stale. */
export class StaleRetry {
  private renewed: Promise<ResolvedResources> | undefined;
  constructor(
    readonly first: ResolvedResources,
    private readonly resolve: Resolve,
  ) {}
  renew(): Promise<ResolvedResources> {
    this.renewed ??= this.resolve();
    return this.renewed;
  }
}

const STALE_CODES = new Set(["ImageNotFound", "FlavorNotFound", "NetworkNotFound"]);
export const sameIds = (a: ResolvedResources, b: ResolvedResources): boolean =>
  a.image.id === b.image.id &&
  a.flavor.id === b.flavor.id &&
  a.networks.map((n) => n.id).join() === b.networks.map((n) => n.id).join();

/** The stale-resource error of a create that failed as a whole, or for every node. */
export function staleOf(outcome: CreateNodesResult | Error): CloudceError | undefined {
  if (outcome instanceof Error) {
    const e = toCloudceError(outcome);
    return STALE_CODES.has(e.code) ? e : undefined;
  }
  if (outcome.created.length > 0 || outcome.failed.length === 0) return undefined;
  const errors = outcome.failed.map((f) => toCloudceError(f.error));
  return errors.every((e) => STALE_CODES.has(e.code)) ? errors[0] : undefined;
}

/** Errors after which the cloud may have created the VM anyway (the answer, not the request, was lost). */
const CERTAIN_CODES = new Set([
  "QuotaExceeded",
  "CapacityExceeded",
  "ImageNotFound",
  "FlavorNotFound",
  "NetworkNotFound",
  "Forbidden",
  "AuthFailed",
  "AuthKeyMissing",
  "OptionInvalid",
  "OptionMissing",
  "UserDataTooLarge",
  "UserDataInvalid",
  "NotSupported",
  "ProxyExpired",
  "ProxyMissing",
]);
export const isUncertain = (f: SubmissionFailure): boolean => !CERTAIN_CODES.has(f.error.code);

/** Refusals after which every further create of the round would be refused too. */
export const EXHAUSTED_CODES = new Set(["QuotaExceeded", "CapacityExceeded"]);

export function createRequest(
  input: SubmissionInput,
  resources: ResolvedResources,
  nodes: readonly NodeSpec[],
): CreateNodesRequest {
  const { settings, metadata } = input;
  return {
    imageId: resources.image.id,
    flavorId: resources.flavor.id,
    networkIds: resources.networks.map((n) => n.id),
    ...(settings.sshKey ? { keyName: settings.sshKey } : {}),
    nodes: metadata ? nodes.map((n) => ({ ...n, metadata: { ...n.metadata, ...metadata } })) : nodes,
    requestId: randomUUID(),
    ...(input.stop.signal ? { signal: input.stop.signal } : {}),
  };
}
