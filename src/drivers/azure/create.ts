/**
 * createNodes for Azure. Every create is a PUT of a name the CE chose, so a
 * retried call is the same resource, never a twin: one VM per spec, or, with
 * Driver_scale_set, one flexible scale set of N VMs for the specs that share
 * a name (a CE batch), in one request. The long-running operation is
 * followed under Driver_operation_timeout. A create whose answer was lost is
 * recovered by reading the VM (or the set's VMs) by name and checking the
 * tags; what exists is the truth.
 */

import { createHash } from "node:crypto";
import { CloudceError, toCloudceError } from "../../errors.js";
import { mapGated } from "../../util/pool.js";
import type { CallLimit, CloudNode, CreateNodesRequest, CreateNodesResult, NodeFailure, NodeSpec } from "../driver.js";
import { batchesByName, type NodeBatch } from "../node-batches.js";
import type { RestResponse } from "../http/rest-client.js";
import type { ArmApi } from "./arm.js";
import type { AzureInstances } from "./instances.js";
import { checkVmName, hasTags, toTags } from "./names.js";
import { DRIVER_NAME } from "./options.js";
import { toCloudNode, type AzureVm } from "./state-map.js";
import { scaleSetBody, vmBody, type VmPlan } from "./vm-body.js";

/** Azure's limit on customData: 64 KiB before base64. */
export const CUSTOM_DATA_MAX_BYTES = 65_535;

export interface CreateContext {
  readonly arm: ArmApi;
  readonly instances: AzureInstances;
  readonly limit: CallLimit;
  readonly sshPublicKey: () => Promise<string>;
}

/** Checked before any call: Azure refuses larger customData only after the request. */
function checkSizes(nodes: readonly NodeSpec[]): void {
  const big = nodes.find((n) => n.userData.length > CUSTOM_DATA_MAX_BYTES);
  if (big) {
    throw new CloudceError(
      "UserDataTooLarge",
      `AZURE: the user-data of '${big.name}' is ${big.userData.length} bytes; ` +
        `Azure's customData holds at most ${CUSTOM_DATA_MAX_BYTES}; shorten the template or let the pilot fetch more at boot`,
      { driver: DRIVER_NAME },
    );
  }
  for (const n of nodes) checkVmName(n.name);
}

export async function createNodes(
  ctx: CreateContext,
  request: CreateNodesRequest,
  scaleSets: boolean,
): Promise<CreateNodesResult> {
  checkSizes(request.nodes);
  const all = batchesByName(request.nodes, DRIVER_NAME);
  const sshPublicKey = await ctx.sshPublicKey();
  const created: CloudNode[] = [];
  const failed: NodeFailure[] = [];
  const gate = <T>(call: () => Promise<T>, signal?: AbortSignal) => ctx.limit("create", call, signal);
  const settled = await mapGated(
    all,
    gate,
    (b) =>
      scaleSets && b.count > 1 ? createSet(ctx, request, b, sshPublicKey) : createVms(ctx, request, b, sshPublicKey),
    request.signal,
  );
  settled.forEach((r, i) => {
    const batch = all[i]!;
    if (r === undefined) failed.push(...notSent(batch.spec.name, batch.count));
    else if (r.status === "rejected")
      for (let k = 0; k < batch.count; k++)
        failed.push({ target: batch.spec.name, error: toCloudceError(r.reason, "CloudError") });
    else {
      created.push(...r.value.created);
      failed.push(...r.value.failed);
    }
  });
  ctx.instances.remember(created);
  const first = failed[0]?.error;
  if (created.length === 0 && first && failed.every((f) => f.error === first)) throw first;
  return { created, failed };
}

function plan(request: CreateNodesRequest, spec: NodeSpec, sshPublicKey: string): VmPlan {
  const subnetId = request.networkIds[0];
  if (!subnetId)
    throw new CloudceError("OptionMissing", "AZURE: a VM needs a subnet", {
      driver: DRIVER_NAME,
      refused: { input: "network", problem: "missing", expected: "a subnet, e.g. name:pilots-vnet/pilots" },
    });
  return {
    name: spec.name,
    vmSize: request.flavorId,
    imageId: request.imageId,
    subnetId,
    sshPublicKey,
    customData: Buffer.from(spec.userData).toString("base64"),
    tags: toTags(spec.metadata),
  };
}

/** Several VMs of one name (no scale sets): only the first can exist; the others fail as twins would. */
async function createVms(
  ctx: CreateContext,
  request: CreateNodesRequest,
  batch: NodeBatch,
  key: string,
): Promise<CreateNodesResult> {
  const node = await createVm(ctx, plan(request, batch.spec, key));
  const twins = Array.from({ length: batch.count - 1 }, () => ({
    target: batch.spec.name,
    error: new CloudceError(
      "Internal",
      `AZURE: one VM per name; ${batch.count} were asked under '${batch.spec.name}' (enable Driver_scale_set for batches)`,
      { driver: DRIVER_NAME, retryable: false },
    ),
  }));
  return { created: [node], failed: twins };
}

async function createVm(ctx: CreateContext, p: VmPlan): Promise<CloudNode> {
  const { arm } = ctx;
  const path = arm.groupPath("compute", `virtualMachines/${encodeURIComponent(p.name)}`);
  const started = await put<AzureVm>(ctx, path, vmBody(p, arm.settings), p.customData);
  if (started.error && !recoverable(started.error)) throw started.error;
  if (started.response) {
    const outcome = await followQuietly(ctx, started.response);
    if (outcome.state === "failed") {
      // A VM that failed to allocate stays as a failed resource: removed now (so that a fallback to
      // another size may take the name again), and tagged for cleanup if that fails.
      await deleteFailed(ctx, path);
      throw outcome.error;
    }
    const vm = started.response.body;
    // An answer without an operation may still be a VM that failed to provision: read back below.
    if (vm?.properties?.vmId && vm.properties.provisioningState?.toLowerCase() !== "failed") return toCloudNode(vm);
  }
  const found = await readBack(() => ctx.instances.byName(p.name), started.error);
  if (!found)
    throw (
      started.error ??
      new CloudceError("CloudError", `AZURE PUT ${p.name}: accepted, but the VM cannot be read back`, {
        driver: DRIVER_NAME,
      })
    );
  if (!hasTags(found.metadata, p.tags))
    throw new CloudceError("CloudError", `AZURE: a VM named '${p.name}' exists without this CE's tags; not adopted`, {
      driver: DRIVER_NAME,
      retryable: false,
    });
  if (found.state === "error") {
    await deleteFailed(ctx, path);
    throw new CloudceError(
      found.fault?.code ?? "CloudError",
      found.fault?.message ?? `AZURE: VM '${p.name}' failed to provision`,
      { driver: DRIVER_NAME },
    );
  }
  return found;
}

async function deleteFailed(ctx: CreateContext, path: string): Promise<void> {
  try {
    const res = await ctx.arm.call("compute", "DELETE", path, { accept: [404], retry: false });
    await ctx.arm.follow(res, "delete", ctx.arm.settings.operationTimeoutMs);
  } catch {
    // Cleanup finds it by its tags.
  }
}

/**
 * A scale set's name: the batch's, and 4 hex of the VM size, because a
 * fallback round asks for the same batch in another size, and a set has one.
 */
export function scaleSetName(batchName: string, vmSize: string): string {
  return `${batchName}-${createHash("sha256").update(vmSize).digest("hex").slice(0, 4)}`;
}

/** One flexible scale set of `count` VMs; every VM the set holds afterwards is returned, the shortfall fails. */
async function createSet(
  ctx: CreateContext,
  request: CreateNodesRequest,
  batch: NodeBatch,
  key: string,
): Promise<CreateNodesResult> {
  const { arm } = ctx;
  const p = { ...plan(request, batch.spec, key), name: scaleSetName(batch.spec.name, request.flavorId) };
  const path = arm.groupPath("compute", `virtualMachineScaleSets/${encodeURIComponent(p.name)}`);
  const started = await put<unknown>(ctx, path, scaleSetBody(p, batch.count, arm.settings), p.customData);
  if (started.error && !recoverable(started.error)) throw started.error;
  let error = started.error;
  if (started.response) {
    const outcome = await followQuietly(ctx, started.response);
    if (outcome.state === "failed") error = outcome.error;
  }
  const members = await readBack(
    async () => (await ctx.instances.nodes(`${p.name}_`)).filter((n) => hasTags(n.metadata, p.tags)),
    error,
  );
  const nodes = (members ?? []).slice(0, batch.count);
  const missing = batch.count - nodes.length;
  const shortfall =
    error ??
    new CloudceError(
      "CapacityExceeded",
      `AZURE scale set ${p.name}: ${nodes.length} of ${batch.count} VMs exist (not enough capacity); the missing ones may be submitted again later`,
      { driver: DRIVER_NAME },
    );
  return {
    created: nodes,
    failed: Array.from({ length: missing }, () => ({ target: batch.spec.name, error: shortfall })),
  };
}

interface Started<T> {
  readonly response?: RestResponse<T>;
  readonly error?: CloudceError;
}

async function put<T>(ctx: CreateContext, path: string, body: unknown, customData: string): Promise<Started<T>> {
  try {
    return { response: await ctx.arm.call<T>("compute", "PUT", path, { json: body, redact: [customData] }) };
  } catch (err) {
    return { error: toCloudceError(err, "CloudError") };
  }
}

/** An error after which the resource may exist all the same: the answer was lost, or the cloud failed midway. */
function recoverable(err: CloudceError): boolean {
  return err.retryable || err.code === "Timeout" || err.code === "CloudUnavailable";
}

/** A poll that fails leaves the outcome to the read-back. */
async function followQuietly(ctx: CreateContext, response: RestResponse<unknown>): ReturnType<ArmApi["follow"]> {
  try {
    return await ctx.arm.follow(response, "create", ctx.arm.settings.operationTimeoutMs);
  } catch {
    return { state: "running" };
  }
}

/** A read-back; when it fails too, an uncertain error: the VMs, if any, carry this CE's tags, so status and cleanup find them. */
async function readBack<T>(read: () => Promise<T>, cause: CloudceError | undefined): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const e = toCloudceError(err, "CloudError");
    if (e.code === "NodeNotFound") throw cause ?? e;
    throw new CloudceError(
      "CloudError",
      `AZURE create: the VMs may exist, but reading them back failed (${e.message}); they carry this CE's tags, so status and cleanup find them`,
      { driver: DRIVER_NAME, cause: e, retryable: false },
    );
  }
}

function notSent(target: string, count: number): NodeFailure[] {
  const error = new CloudceError(
    "Timeout",
    `AZURE create of ${target}: not sent, the submission was stopped first; no VM was requested`,
    { driver: DRIVER_NAME, retryable: false },
  );
  return Array.from({ length: count }, () => ({ target, error, notSent: true }));
}
