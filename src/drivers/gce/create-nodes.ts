/**
 * createNodes for GCE: specs that share name, user-data and metadata (a CE
 * batch) go out as ONE `instances.bulkInsert` (count N, minCount 1, name
 * pattern `<name>-####`), zonal, or regional with a location policy when
 * Driver_zone names several zones. Every insert carries a requestId derived
 * from the CE's request id, so a retried call is the same request to GCE.
 *
 * What was created is read back by listing the batch's names, whatever the
 * call or its operation said: a lost answer, an operation past its deadline,
 * or an error after a partial success (`perLocationStatus`) still returns
 * every VM that exists. What is missing becomes per-node failures carrying
 * the operation's typed error (CapacityExceeded, QuotaExceeded, …).
 */

import { createHash } from "node:crypto";
import { CloudceError, isCloudceError, toCloudceError } from "../../errors.js";
import type { CloudNode, CreateNodesRequest, CreateNodesResult, NodeFailure } from "../driver.js";
import { batchesByName, type NodeBatch } from "../node-batches.js";
import type { GceApi } from "./api.js";
import { operationError } from "./errors.js";
import type { GceInstances } from "./instances.js";
import { instanceBaseName, PATTERN_SUFFIX, toLabels } from "./names.js";
import { awaitOperation, createdCount, type Clock, type Operation } from "./operations.js";
import { DRIVER_NAME, type GceSettings } from "./options.js";
import { toCloudNode, type GceInstance } from "./state-map.js";

/** Wait before an insert whose answers were all lost is asked for again. */
const ASK_AGAIN_MS = 1_000;
/** Listings after the operation, until they show what it made (listings may lag). */
const READ_BACK_ATTEMPTS = 3;

/** A UUID (what GCE requires of a requestId) determined by the CE's request id and the batch. */
export function insertRequestId(requestId: string, batch: number): string {
  const h = createHash("sha256").update(`${requestId}#${batch}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface CreateContext {
  readonly api: GceApi;
  readonly instances: GceInstances;
  readonly settings: GceSettings;
  readonly clock: Clock;
}

export async function createNodes(ctx: CreateContext, request: CreateNodesRequest): Promise<CreateNodesResult> {
  const created: CloudNode[] = [];
  const failed: NodeFailure[] = [];
  let firstError: CloudceError | undefined;
  const all = batchesByName(request.nodes, DRIVER_NAME);
  // Batches are independent: their operations are awaited together.
  const outcomes = await Promise.all(
    all.map((batch, index) => insertBatch(ctx, request, batch, insertRequestId(request.requestId, index))),
  );
  for (const [index, batch] of all.entries()) {
    const outcome = outcomes[index]!;
    created.push(...outcome.nodes);
    // VMs the operation made that no listing showed yet: never a capacity failure, and never made again.
    const unlisted = Math.min(outcome.unlisted, batch.count - outcome.nodes.length);
    if (unlisted > 0) {
      const error = notListedYet(outcome.nodes.length + unlisted, outcome.nodes.length);
      firstError ??= error;
      for (let i = 0; i < unlisted; i++) failed.push({ target: batch.spec.name, error });
    }
    const missing = batch.count - outcome.nodes.length - unlisted;
    if (missing > 0) {
      const error = outcome.error ?? shortfall(batch.count, outcome.nodes.length + unlisted);
      firstError ??= error;
      for (let i = 0; i < missing; i++) failed.push({ target: batch.spec.name, error });
    }
  }
  if (created.length === 0 && firstError && failed.every((f) => f.error === firstError)) throw firstError;
  return { created, failed };
}

interface BatchOutcome {
  readonly nodes: CloudNode[];
  /** How many more VMs the operation made (or, DONE without counts, may have made) than the read-back found. */
  readonly unlisted: number;
  readonly error?: CloudceError;
}

async function insertBatch(
  ctx: CreateContext,
  request: CreateNodesRequest,
  batch: NodeBatch,
  requestId: string,
): Promise<BatchOutcome> {
  const base = instanceBaseName(batch.spec.name);
  const labels = toLabels(batch.spec.metadata);
  const { settings } = ctx;
  const regional = settings.zones.length > 1;
  const path = regional
    ? `regions/${settings.region}/instances/bulkInsert`
    : `zones/${settings.zones[0]}/instances/bulkInsert`;
  let error: CloudceError | undefined;
  let expected: number | undefined;
  let accepted = false;
  try {
    const started = await insert(ctx, path, requestId, insertBody(request, batch, base, labels, settings));
    accepted = true;
    const done = await awaitOperation(ctx.api, started, settings.operationTimeoutMs, ctx.clock);
    const errors = done.error?.errors ?? [];
    if (errors.length > 0) error = operationError("bulkInsert", errors);
    // DONE without error and without counts: the cloud may have made the whole batch, so a lagging
    // listing's shortfall is uncertain, never "no capacity" (which would make those pilots again).
    expected = createdCount(done) ?? (error ? undefined : batch.count);
  } catch (err) {
    error = toCloudceError(err, "CloudError");
  }
  // Whatever was said, the VMs that exist are the truth.
  const readBack = () => ctx.instances.find(`${base}-\\d{${PATTERN_SUFFIX.length - 1}}`, labels);
  let found: GceInstance[];
  try {
    found = await readBack();
    for (
      let i = 1;
      i < READ_BACK_ATTEMPTS && expected !== undefined && found.length < Math.min(expected, batch.count);
      i++
    ) {
      await ctx.clock.sleep(500 * i);
      found = await readBack();
    }
  } catch (err) {
    // The VMs, if any, carry this CE's labels. Unless the cloud said it made none, the caller must
    // know they may exist (an uncertain error), whatever made the listing fail.
    const madeNone = expected === 0 || (!accepted && error !== undefined);
    return { nodes: [], unlisted: 0, error: madeNone && error ? error : unread(toCloudceError(err, "CloudError")) };
  }
  const nodes = found.slice(0, batch.count).map((i) => toCloudNode(i, undefined, batch.spec.metadata));
  const unlisted = expected === undefined ? 0 : Math.max(0, Math.min(expected, batch.count) - nodes.length);
  return error ? { nodes, unlisted, error } : { nodes, unlisted };
}

/**
 * The insert; when every attempt's answer was lost, it is sent once more a
 * little later: the same requestId makes GCE answer with the operation the
 * lost attempt started (if it did), which is then awaited like any other.
 */
async function insert(ctx: CreateContext, path: string, requestId: string, body: unknown): Promise<Operation> {
  const send = () => ctx.api.require<Operation>({ method: "POST", path, query: { requestId }, json: body });
  try {
    return await send();
  } catch (err) {
    if (!isCloudceError(err) || !err.retryable) throw err;
    await ctx.clock.sleep(ASK_AGAIN_MS);
    return send();
  }
}

function unread(cause: CloudceError): CloudceError {
  return new CloudceError(
    "CloudError",
    `GCE bulkInsert: the VMs may have been created, but listing them failed (${cause.message}); they carry this CE's labels, so status and cleanup find them`,
    { driver: DRIVER_NAME, cause },
  );
}

function insertBody(
  request: CreateNodesRequest,
  batch: NodeBatch,
  base: string,
  labels: Record<string, string>,
  s: GceSettings,
): unknown {
  const items = [
    { key: "user-data", value: Buffer.from(batch.spec.userData).toString("base64") },
    { key: "user-data-encoding", value: "base64" },
    // The values as given, beside their label encodings (which may be hashed).
    ...Object.entries(batch.spec.metadata).map(([key, value]) => ({ key, value })),
    ...(request.keyName ? [{ key: "ssh-keys", value: request.keyName }] : []),
  ];
  const networks = request.networkIds.length > 0 ? request.networkIds : ["default"];
  return {
    count: batch.count,
    minCount: 1,
    namePattern: `${base}${PATTERN_SUFFIX}`,
    ...(s.zones.length > 1
      ? {
          locationPolicy: {
            locations: Object.fromEntries(s.zones.map((z) => [`zones/${z}`, { preference: "ALLOW" }])),
            targetShape: s.targetShape,
          },
        }
      : {}),
    instanceProperties: {
      machineType: request.flavorId,
      labels,
      metadata: { items },
      disks: [
        {
          boot: true,
          autoDelete: true,
          initializeParams: {
            sourceImage: request.imageId,
            diskType: s.diskType,
            labels,
            ...(s.diskSizeGb !== undefined ? { diskSizeGb: String(s.diskSizeGb) } : {}),
          },
        },
      ],
      networkInterfaces: networks.map((network, i) => ({
        network: `global/networks/${network}`,
        ...(i === 0 && s.subnetwork ? { subnetwork: `regions/${s.region}/subnetworks/${s.subnetwork}` } : {}),
        ...(i === 0 && s.externalIp ? { accessConfigs: [{ type: "ONE_TO_ONE_NAT", name: "External NAT" }] } : {}),
      })),
      ...(s.networkTags.length > 0 ? { tags: { items: [...s.networkTags] } } : {}),
      ...(s.spot
        ? {
            scheduling: {
              provisioningModel: "SPOT",
              instanceTerminationAction: "STOP",
              automaticRestart: false,
              onHostMaintenance: "TERMINATE",
            },
          }
        : {}),
    },
  };
}

/** Uncertain by its code: the CE looks for them by their batch label, and cleanup finds them by their labels. */
function notListedYet(made: number, listed: number): CloudceError {
  return new CloudceError(
    "CloudError",
    `GCE bulkInsert: the operation made ${made} instances (by its counts, or all asked for when it gives none and no error), ` +
      `but the listing does not show ${made - listed} of them yet; they carry this CE's labels, so status and cleanup find them`,
    { driver: DRIVER_NAME, retryable: false },
  );
}

function shortfall(asked: number, got: number): CloudceError {
  return new CloudceError(
    "CapacityExceeded",
    `GCE bulkInsert: the cloud created ${got} of ${asked} instances (not enough capacity); the missing ones may be submitted again later`,
    { driver: DRIVER_NAME },
  );
}
