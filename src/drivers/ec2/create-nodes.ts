/**
 * createNodes for EC2: nodes that share name, user-data and metadata (a
 * CE batch) go out as ONE RunInstances. The request id is the ClientToken,
 * so a call retried after a lost answer launches nothing twice. A batch EC2
 * fills only partly is topped up in the next subnet of Instance_Networks
 * (another zone), with its own token; what still misses is reported as
 * CapacityExceeded failures, never as a failure of what was launched.
 */

import { CloudceError, toCloudceError } from "../../errors.js";
import type { CloudNode, CreateNodesRequest, CreateNodesResult, NodeFailure, NodeSpec } from "../driver.js";
import type { Ec2Instances, LaunchRequest } from "./instances.js";
import { DRIVER_NAME } from "./options.js";

/** Error codes after which the next subnet (zone) may still have room. */
const TRY_NEXT_SUBNET = new Set(["CapacityExceeded", "NetworkNotFound"]);

interface Group {
  readonly spec: NodeSpec;
  count: number;
}

/** Specs grouped by name, user-data and metadata, in request order. */
function groups(nodes: readonly NodeSpec[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const spec of nodes) {
    const key = JSON.stringify([
      spec.name,
      Buffer.from(spec.userData).toString("base64"),
      Object.entries(spec.metadata).sort(),
    ]);
    const g = byKey.get(key);
    if (g) g.count += 1;
    else byKey.set(key, { spec, count: 1 });
  }
  return [...byKey.values()];
}

/** ClientTokens are at most 64 ASCII characters; one per (group, subnet attempt). */
export function clientToken(requestId: string, group: number, attempt: number): string {
  const suffix = group === 0 && attempt === 0 ? "" : `-${group}-${attempt}`;
  return `${requestId.slice(0, 64 - suffix.length)}${suffix}`;
}

export async function createNodes(
  instances: Ec2Instances,
  request: CreateNodesRequest,
  rootDeviceName: string | undefined,
): Promise<CreateNodesResult> {
  const created: CloudNode[] = [];
  const failed: NodeFailure[] = [];
  let firstError: CloudceError | undefined;
  const subnets: (string | undefined)[] = request.networkIds.length > 0 ? [...request.networkIds] : [undefined];
  for (const [index, group] of groups(request.nodes).entries()) {
    let missing = group.count;
    let lastError: CloudceError | undefined;
    for (const [attempt, subnetId] of subnets.entries()) {
      // A stop sends nothing more: the next subnet is not tried.
      if (attempt > 0 && request.signal?.aborted) break;
      const launch: LaunchRequest = {
        imageId: request.imageId,
        flavorId: request.flavorId,
        name: group.spec.name,
        userData: group.spec.userData,
        metadata: group.spec.metadata,
        count: missing,
        clientToken: clientToken(request.requestId, index, attempt),
        ...(subnetId ? { subnetId } : {}),
        ...(request.keyName ? { keyName: request.keyName } : {}),
        ...(rootDeviceName ? { rootDeviceName } : {}),
      };
      try {
        const nodes = await instances.launch(launch);
        created.push(...nodes);
        missing -= nodes.length;
        lastError = undefined;
      } catch (err) {
        lastError = toCloudceError(err, "CloudError");
        firstError ??= lastError;
        if (!TRY_NEXT_SUBNET.has(lastError.code)) break;
      }
      if (missing <= 0) break;
    }
    const error = lastError ?? shortfall(group.count, group.count - missing);
    for (let i = 0; i < missing; i++) failed.push({ target: group.spec.name, error });
  }
  if (created.length === 0 && firstError) throw firstError;
  return { created, failed };
}

function shortfall(asked: number, got: number): CloudceError {
  return new CloudceError(
    "CapacityExceeded",
    `EC2 RunInstances: the cloud started ${got} of ${asked} instances (not enough capacity); the missing ones may be submitted again later`,
    { driver: DRIVER_NAME },
  );
}
