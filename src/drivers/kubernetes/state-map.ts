/**
 * A pod as the CE sees a node. Phases: Pending → booting, Running → running,
 * Succeeded → stopped (Done), Failed → error with the reason kept (OOMKilled,
 * DeadlineExceeded, Evicted, preempted), Unknown → unknown; a pod being
 * deleted is gone. A pending pod's cloud state names why it waits
 * (ImagePullBackOff, ErrImagePull, CreateContainerConfigError,
 * Unschedulable): the CE's boot timeout reads it Aborted once
 * `Instance_MaxBootSeconds` has passed, and that is the state status shows.
 */

import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { CloudNode, NodeState } from "../driver.js";
import { metadataOf, NAME_ANNOTATION } from "./names.js";

const PHASES: Readonly<Record<string, NodeState>> = {
  Pending: "booting",
  Running: "running",
  Succeeded: "stopped",
  Failed: "error",
};

/** Reasons a pod was ended by the cluster rather than by its pilot: the pilot was interrupted. */
const DISRUPTIONS = new Set([
  "Evicted",
  "Preempting",
  "PreemptionByScheduler",
  "TerminationByKubelet",
  "EvictionByEvictionAPI",
  "DeletionByTaintManager",
  "DeletionByPodGC",
  "NodeLost",
  "Shutdown",
  "Terminated",
]);

const asDate = (v: Date | string | undefined): Date | undefined =>
  v === undefined ? undefined : v instanceof Date ? v : new Date(v);

function earliest(dates: readonly (Date | undefined)[]): Date | undefined {
  const known = dates.filter((d): d is Date => d !== undefined && !Number.isNaN(d.getTime()));
  return known.length === 0 ? undefined : new Date(Math.min(...known.map((d) => d.getTime())));
}

function latest(dates: readonly (Date | undefined)[]): Date | undefined {
  const known = dates.filter((d): d is Date => d !== undefined && !Number.isNaN(d.getTime()));
  return known.length === 0 ? undefined : new Date(Math.max(...known.map((d) => d.getTime())));
}

/** Why a pending pod waits: a container's waiting reason, else the scheduler's. */
function waitingReason(pod: V1Pod, containers: readonly V1ContainerStatus[]): string | undefined {
  const waiting = containers
    .map((c) => c.state?.waiting?.reason)
    .find((r) => r !== undefined && r !== "ContainerCreating" && r !== "PodInitializing");
  if (waiting) return waiting;
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  return scheduled?.reason;
}

/** Why a pod failed: the pod's reason (Evicted, DeadlineExceeded), a disruption condition, else the first failed container's. */
function failureReason(pod: V1Pod, containers: readonly V1ContainerStatus[]): { reason: string; exitCode?: number } {
  if (pod.status?.reason) return { reason: pod.status.reason };
  const disruption = pod.status?.conditions?.find((c) => c.type === "DisruptionTarget" && c.status === "True");
  if (disruption?.reason) return { reason: disruption.reason };
  const failed = containers.map((c) => c.state?.terminated).find((t) => t !== undefined && t.exitCode !== 0);
  return failed ? { reason: failed.reason ?? "Error", exitCode: failed.exitCode } : { reason: "Failed" };
}

export function podToNode(pod: V1Pod): CloudNode {
  const phase = pod.status?.phase ?? "Pending";
  const containers = pod.status?.containerStatuses ?? [];
  const annotations = pod.metadata?.annotations ?? {};
  const base = {
    id: pod.metadata?.name ?? "",
    name: annotations[NAME_ANNOTATION] ?? pod.metadata?.name ?? "",
    createdAt: asDate(pod.metadata?.creationTimestamp) ?? new Date(0),
    metadata: metadataOf(annotations),
  };
  const started = earliest(
    containers.map((c) => asDate(c.state?.running?.startedAt ?? c.state?.terminated?.startedAt)),
  );
  const launchedAt = phase === "Pending" ? undefined : (started ?? asDate(pod.status?.startTime));
  const timing = launchedAt ? { launchedAt } : {};
  if (pod.metadata?.deletionTimestamp) return { ...base, ...timing, state: "gone", cloudState: `${phase}, deleting` };
  const state = PHASES[phase] ?? "unknown";
  if (state === "booting") {
    const why = waitingReason(pod, containers);
    return { ...base, state, cloudState: why ? `Pending: ${why}` : "Pending" };
  }
  const stoppedAt =
    state === "stopped" || state === "error"
      ? latest(containers.map((c) => asDate(c.state?.terminated?.finishedAt)))
      : undefined;
  const stop = stoppedAt ? { stoppedAt } : {};
  if (state !== "error") return { ...base, ...timing, ...stop, state, cloudState: phase };
  const { reason, exitCode } = failureReason(pod, containers);
  const detail = exitCode === undefined ? reason : `${reason}, exit code ${exitCode}`;
  return {
    ...base,
    ...timing,
    ...stop,
    state,
    cloudState: `Failed: ${detail}`,
    fault: { code: "CloudError", message: `the pod failed: ${detail}` },
    ...(DISRUPTIONS.has(reason) ? { interrupted: true } : {}),
  };
}
