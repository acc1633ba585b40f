/**
 * DIRAC-style results: `{OK: true, Value, …extras}` or `{OK: false, Message}`.
 * CE methods return these and never throw for operational failures.
 */

import { scrubSecrets } from "../secrets.js";

export type Ok<T, Extra extends object = object> = { readonly OK: true; readonly Value: T } & Extra;
export interface Err {
  readonly OK: false;
  readonly Message: string;
  /** The stable error code behind the message, when there is one. */
  readonly Errno?: string;
}
export type Result<T, Extra extends object = object> = Ok<T, Extra> | Err;

export function S_OK<T>(value: T): Ok<T>;
export function S_OK<T, Extra extends object>(value: T, extra: Extra): Ok<T, Extra>;
export function S_OK<T, Extra extends object>(value: T, extra?: Extra): Ok<T, Extra> {
  return { OK: true, Value: value, ...(extra ?? ({} as Extra)) } as Ok<T, Extra>;
}

export function S_ERROR(message: string, code?: string): Err {
  const Message = scrubSecrets(message);
  return code === undefined ? { OK: false, Message } : { OK: false, Message, Errno: code };
}

/** DIRAC pilot states, as the site director and PilotAgentsDB know them. */
export type PilotStatus = "Submitted" | "Waiting" | "Running" | "Done" | "Failed" | "Aborted" | "Deleted" | "Unknown";

/** `available()` extras: the CE status counts and the CEInfoDict, as DIRAC's base class returns them. */
export interface CEStatusCounts {
  readonly SubmittedJobs: number;
  readonly RunningJobs: number;
  readonly WaitingJobs: number;
}

export interface CEInfoDict extends CEStatusCounts {
  readonly MaxTotalJobs: number;
  readonly MaxWaitingJobs: number;
  /** What the cloud project could still start with this flavor, when the driver reports limits. */
  readonly CloudCapacity?: number;
}

/** One VM that cleanup removed (or failed to), and why. */
export interface CleanupEntry {
  readonly ref: string;
  readonly name: string;
  readonly reason: "stopped" | "error" | "expired";
  readonly error?: string;
}

export interface CleanupReport {
  readonly deleted: readonly CleanupEntry[];
  readonly failed: readonly CleanupEntry[];
  /** Set when the caller stopped the cleanup half-way: what was left undone. */
  readonly interrupted?: string;
}
