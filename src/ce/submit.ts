/**
 * Pilot submission: N pilots → N VMs. All user-data is rendered and
 * size-checked before the first cloud call, so an oversized template costs
 * nothing. Drivers that create a batch in one call get one request; the
 * others get one request per VM, run concurrently within the CE's bound.
 */

import { randomBytes, randomUUID } from "node:crypto";
import { encodeUserData, newStamp, deriveStamp, type ContextRenderer, type PilotStamp } from "../context/index.js";
import { CloudceError, toCloudceError } from "../errors.js";
import type { CloudDriver, CloudNode, CreateNodesRequest, NodeSpec } from "../drivers/driver.js";
import type { Logger } from "../log.js";
import { mapConcurrent } from "../util/pool.js";
import type { CeSettings } from "./ce-options.js";
import type { DriverRuntime } from "./driver-runtime.js";
import { newVmName, toReference } from "./pilot-reference.js";
import type { ResolvedResources } from "./resource-resolver.js";
import { ownerMetadata } from "./ownership.js";
import { redactUserData } from "./redact.js";
import type { Audit } from "./audit.js";

export interface SubmittedPilot {
  readonly ref: string;
  readonly name: string;
  readonly stamp: string;
  readonly node: CloudNode;
}

export interface SubmissionFailure {
  /** The VM name that could not be created. */
  readonly name: string;
  readonly error: CloudceError;
}

export interface SubmissionOutcome {
  readonly pilots: readonly SubmittedPilot[];
  readonly failures: readonly SubmissionFailure[];
}

export interface SubmissionInput {
  readonly settings: CeSettings;
  readonly runtime: DriverRuntime;
  readonly driver: CloudDriver;
  readonly renderer: ContextRenderer;
  readonly resources: ResolvedResources;
  readonly executable: string;
  readonly count: number;
  readonly logger: Logger;
}

interface PreparedPilot {
  readonly name: string;
  readonly stamp: PilotStamp;
  readonly spec: NodeSpec;
}

/** Logs and journals what a submission created and what failed (failures were logged as they happened). */
export async function recordSubmission(outcome: SubmissionOutcome, audit: Audit, log: Logger): Promise<void> {
  for (const p of outcome.pilots) log.info("pilot VM created", { ref: p.ref, vm: p.name, stamp: p.stamp });
  await audit.record([
    ...outcome.pilots.map((p) => ({ ref: p.ref, vmName: p.name, stamp: p.stamp, action: "create" as const, outcome: "ok" as const, reason: "submit" })),
    ...outcome.failures.map((f) => ({ ref: "", vmName: f.name, action: "create" as const, outcome: "failed" as const, reason: f.error.message })),
  ]);
}

export async function submitPilots(input: SubmissionInput): Promise<SubmissionOutcome> {
  const batch = randomBytes(4).toString("hex");
  return input.driver.capabilities.uniformBatch ? submitBatch(input, batch) : submitEach(input, batch);
}

/** One user-data for all VMs; each VM derives its stamp from its instance id at boot. */
async function submitBatch(input: SubmissionInput, batch: string): Promise<SubmissionOutcome> {
  const seed = newStamp();
  const pilot = prepare(input, batch, { derivedFromSeed: seed });
  const request = createRequest(input, Array.from({ length: input.count }, () => pilot.spec));
  try {
    const result = await input.runtime.call((d) => d.createNodes(request));
    const pilots = result.created.map((node) => submitted(node, deriveStamp(seed, node.id)));
    return { pilots, failures: result.failed.map((f) => logFailure(input, f.target, f.error, pilot.spec.userData)) };
  } catch (err) {
    return { pilots: [], failures: [logFailure(input, pilot.name, err, pilot.spec.userData)] };
  }
}

/** One request per VM, concurrently within `Submit_Concurrency`. */
async function submitEach(input: SubmissionInput, batch: string): Promise<SubmissionOutcome> {
  const prepared = Array.from({ length: input.count }, () => prepare(input, batch, { literal: newStamp() }));
  const settled = await mapConcurrent(prepared, input.settings.submitConcurrency, (p) =>
    input.runtime.call((d) => d.createNodes(createRequest(input, [p.spec]))),
  );
  const pilots: SubmittedPilot[] = [];
  const failures: SubmissionFailure[] = [];
  settled.forEach((outcome, i) => {
    const p = prepared[i]!;
    if (outcome.status === "rejected") {
      failures.push(logFailure(input, p.name, outcome.reason, p.spec.userData));
      return;
    }
    for (const node of outcome.value.created) pilots.push(submitted(node, "literal" in p.stamp ? p.stamp.literal : ""));
    for (const f of outcome.value.failed) failures.push(logFailure(input, f.target, f.error, p.spec.userData));
  });
  return { pilots, failures };
}

function prepare(input: SubmissionInput, batch: string, stamp: PilotStamp): PreparedPilot {
  const { settings, renderer, driver } = input;
  const name = newVmName(settings.namePrefix);
  const text = renderer.render({
    executable: input.executable,
    stamp,
    ceName: settings.ceName,
    queue: settings.queue,
    vmName: name,
    extPackages: settings.extPackages,
    options: settings.raw,
  });
  const userData = encodeUserData(text, driver.capabilities.userData);
  const metadata = { ...ownerMetadata(settings), "cloudce-batch": batch, ...("literal" in stamp ? { "cloudce-stamp": stamp.literal } : {}) };
  return { name, stamp, spec: { name, userData, metadata } };
}

function createRequest(input: SubmissionInput, nodes: readonly NodeSpec[]): CreateNodesRequest {
  const { resources, settings } = input;
  return {
    imageId: resources.image.id,
    flavorId: resources.flavor.id,
    networkIds: resources.networks.map((n) => n.id),
    ...(settings.sshKey ? { keyName: settings.sshKey } : {}),
    nodes,
    requestId: randomUUID(),
  };
}

function submitted(node: CloudNode, stamp: string): SubmittedPilot {
  return { ref: toReference(node.id), name: node.name, stamp, node };
}

function logFailure(input: SubmissionInput, target: string, err: unknown, userData: Uint8Array): SubmissionFailure {
  const raw = toCloudceError(err, "CloudError");
  const message = redactUserData(raw.message, { executable: input.executable, userData });
  const error = message === raw.message ? raw : new CloudceError(raw.code, message, { ...(raw.driver ? { driver: raw.driver } : {}), retryable: raw.retryable });
  input.logger.error("failed to create pilot VM", { vm: target, code: error.code, reason: error.message });
  return { name: target, error };
}
