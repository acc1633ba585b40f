/**
 * Zone and region operations: a bulk insert answers at once with an
 * operation that goes PENDING → RUNNING → DONE. It is polled (backing off
 * from 0.5 s to 5 s) until DONE or the deadline, never forever. An operation
 * can be DONE and still have failed: `error.errors` says why, and a bulk
 * insert's `perLocationStatus` how many VMs each zone created.
 */

import { CloudceError } from "../../errors.js";
import type { GceApi } from "./api.js";
import { DRIVER_NAME } from "./options.js";

export interface OperationErrorItem {
  readonly code?: string;
  readonly message?: string;
}

export interface LocationStatus {
  readonly createdVmCount?: number;
  readonly failedToCreateVmCount?: number;
  readonly targetVmCount?: number;
  readonly status?: string;
}

export interface Operation {
  readonly name: string;
  readonly status?: "PENDING" | "RUNNING" | "DONE";
  readonly zone?: string;
  readonly region?: string;
  readonly error?: { readonly errors?: readonly OperationErrorItem[] };
  readonly instancesBulkInsertOperationMetadata?: {
    readonly perLocationStatus?: Readonly<Record<string, LocationStatus>>;
  };
}

export interface Clock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5_000;

/** The operation once DONE; a Timeout error naming the option when the deadline passes first. */
export async function awaitOperation(
  api: GceApi,
  started: Operation,
  deadlineMs: number,
  clock: Clock,
): Promise<Operation> {
  const scope = started.zone ? `zones/${last(started.zone)}` : `regions/${last(started.region)}`;
  const until = clock.now() + deadlineMs;
  let op = started;
  let wait = FIRST_POLL_MS;
  while (op.status !== "DONE") {
    const left = until - clock.now();
    if (left <= 0) {
      throw new CloudceError(
        "Timeout",
        `GCE operation ${op.name} is not DONE after ${Math.round(deadlineMs / 1000)} s (Driver_operation_timeout); ` +
          `VMs it creates carry this CE's labels, so status and cleanup find them`,
        { driver: DRIVER_NAME },
      );
    }
    await clock.sleep(Math.min(wait, left));
    wait = Math.min(MAX_POLL_MS, wait * 1.5);
    op = await api.require<Operation>({ method: "GET", path: `${scope}/operations/${op.name}` });
  }
  return op;
}

/** VMs the operation says it created, over all locations (undefined when it does not say). */
export function createdCount(op: Operation): number | undefined {
  const locations = op.instancesBulkInsertOperationMetadata?.perLocationStatus;
  if (!locations) return undefined;
  return Object.values(locations).reduce((n, l) => n + (l.createdVmCount ?? 0), 0);
}

function last(url: string | undefined): string {
  return (url ?? "").split("/").pop() ?? "";
}
