/** The simulated GCE project's records (instances, operations, images, machine types), its options and its API error. */

import type { TestClock } from "./clock.js";

/** An API error: HTTP status, `errors[].reason`, message. */
export class GceFault extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GceImage {
  readonly project: string;
  readonly name: string;
  readonly family?: string;
  readonly creationTimestamp: string;
}

export interface GceMachineType {
  readonly name: string;
  readonly guestCpus: number;
  readonly memoryMb: number;
}

export interface InstanceRecord {
  readonly id: string;
  readonly name: string;
  readonly zone: string;
  readonly creationTimestamp: string;
  readonly machineType: string;
  readonly labels: Record<string, string>;
  readonly metadata: readonly { key: string; value: string }[];
  readonly scheduling: Record<string, unknown>;
  readonly properties: Record<string, unknown>;
  /** The operation that created it. */
  readonly operation?: string;
  /** Listings of its zone that do not show it yet (a listing that lags behind the operation). */
  unlisted?: number;
  status: string;
  /** When it last started running, and last stopped (clock ms). */
  lastStart?: number;
  lastStop?: number;
  /** The status it moves to at `at` (clock ms); `GONE` removes it. */
  transition?: { to: string; at: number };
  serial: string;
}

export interface OperationRecord {
  readonly name: string;
  readonly id: string;
  readonly operationType: string;
  readonly zone?: string;
  readonly region?: string;
  readonly targetId?: string;
  readonly insertTime: number;
  /** When it turns RUNNING and DONE (clock ms); `Infinity` keeps it RUNNING. */
  readonly runningAt: number;
  readonly doneAt: number;
  /** Acts once, when it turns RUNNING (a bulk insert creates its VMs then). */
  act?: () => void;
  error?: { code: string; message: string }[];
  /** Its answers leave out perLocationStatus (fault injection). */
  uncounted?: boolean;
  perLocationStatus?: Record<
    string,
    { targetVmCount: number; createdVmCount: number; failedToCreateVmCount: number; status: string }
  >;
}

export interface GceTimings {
  /** Operation PENDING → RUNNING, RUNNING → DONE (default 20 ms each). */
  readonly pendingMs?: number;
  readonly runningMs?: number;
  /** PROVISIONING → RUNNING (default 50 ms, STAGING half way). */
  readonly bootMs?: number;
  /** STOPPING → TERMINATED or gone (default 30 ms). */
  readonly stopMs?: number;
}

export interface GceCloudOptions extends GceTimings {
  readonly project?: string;
  readonly region?: string;
  readonly zones?: readonly string[];
  readonly clock?: TestClock;
  /** VMs each zone can still hold (default unlimited). */
  readonly capacity?: Readonly<Record<string, number>>;
  /** Region quotas (defaults: INSTANCES 1000, CPUS 4000, PREEMPTIBLE_CPUS 0, IN_USE_ADDRESSES 1000). */
  readonly quotas?: Readonly<Record<string, number>>;
}
