/**
 * Nodes (VMs) as drivers report them, and the create, delete and listing
 * calls' requests and results. Part of the driver contract (driver.ts).
 */

import type { ErrorCode } from "../errors.js";

/**
 * Normalised node states; each driver maps its cloud's states onto these.
 * `suspended` is a VM frozen by an operator (paused, suspended, shelved):
 * not finished, it resumes where it was, so it is never cleaned up as done.
 */
export const NODE_STATES = [
  "booting",
  "running",
  "suspended",
  "stopping",
  "stopped",
  "error",
  "gone",
  "unknown",
] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** A node (VM) as the CE sees it. */
export interface CloudNode {
  /** The cloud's unique id (UUID on OpenStack, `i-…` on EC2). */
  readonly id: string;
  /** The friendly name given at creation. */
  readonly name: string;
  readonly state: NodeState;
  /** The cloud's own state name, kept for diagnostics. */
  readonly cloudState: string;
  readonly createdAt: Date;
  /** Metadata (OpenStack) or tags (EC2) set at creation. */
  readonly metadata: Readonly<Record<string, string>>;
  /** True when the cloud reclaimed the node (e.g. an interrupted spot VM). */
  readonly interrupted?: boolean;
  /**
   * True for a `gone` node that powered itself off and was removed by the
   * cloud for it (EC2 with shutdown behaviour terminate): its work finished.
   */
  readonly finished?: boolean;
  /**
   * When the VM started running, once it has: OpenStack `OS-SRV-USG:launched_at`,
   * EC2 `LaunchTime` (past `pending`), LOCAL the end of boot. The CE's fizzle rule reads it.
   */
  readonly launchedAt?: Date;
  /**
   * When a `stopped` VM powered off: OpenStack `updated` of a SHUTOFF server,
   * EC2 the time in `StateTransitionReason`, LOCAL the exit time of its program.
   */
  readonly stoppedAt?: Date;
  /** Why the cloud failed an `error` node; `CapacityExceeded` when it had no room (Nova "No valid host"). */
  readonly fault?: NodeFault;
}

/** The cloud's reason for a failed node, mapped onto a stable code. */
export interface NodeFault {
  readonly code: ErrorCode;
  readonly message: string;
}

/** One node to create. */
export interface NodeSpec {
  readonly name: string;
  /** Raw user-data bytes (the driver base64-encodes where its API wants it). */
  readonly userData: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface CreateNodesRequest {
  readonly imageId: string;
  readonly flavorId: string;
  readonly networkIds: readonly string[];
  readonly keyName?: string;
  /**
   * The nodes to create. For a driver with `capabilities.uniformBatch` all
   * specs carry the same user-data and the driver may create them in one call.
   */
  readonly nodes: readonly NodeSpec[];
  /** Unique per request: an idempotency token, so a retried call never creates twice. */
  readonly requestId: string;
  /**
   * The caller's stop (a signal to the CLI, a submission's deadline). Once it
   * aborts, a driver that creates in several calls starts no further call and
   * retries nothing; what was made is returned, and the nodes never sent fail
   * with `notSent`. A call already sent is finished (its VMs are returned).
   */
  readonly signal?: AbortSignal;
}

export interface NodeFailure {
  /** The node name (create) or id (destroy/stop) that failed. */
  readonly target: string;
  readonly error: Error;
  /** A create never sent because the request's signal aborted first: nothing was made for it. */
  readonly notSent?: boolean;
}

export interface CreateNodesResult {
  readonly created: readonly CloudNode[];
  readonly failed: readonly NodeFailure[];
}

export interface BulkResult {
  /** Ids acted on, including ids that were already gone. */
  readonly done: readonly string[];
  readonly failed: readonly NodeFailure[];
  /**
   * Of `done`, the ids the cloud said were already gone, or already being
   * deleted, when this call reached it (a 404, EC2's previous state
   * `shutting-down`/`terminated`): another delete got there first. Only
   * where the cloud says so; a driver that cannot tell leaves it out.
   */
  readonly gone?: readonly string[];
}

/** Selects the CE's own nodes: every listed node must match both. */
export interface NodeFilter {
  readonly namePrefix: string;
  /** Metadata/tags every node must carry with exactly these values. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Values the caller would recognise on a node without requiring them (its
   * own CE name, where untagged VMs are adopted): a cloud that can keep a
   * long value only hashed (GCE labels) reads such a value back as given.
   */
  readonly recognise?: Readonly<Record<string, string>>;
}
