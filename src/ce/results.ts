/**
 * DIRAC-style results: `{OK: true, Value, …extras}` or `{OK: false, Message, Code}`.
 * The CE's DIRAC-shaped methods and `serve` return these and never throw for operational failures.
 */

import { type CloudceError, type ErrorCode, type Problem, problemLine, toCloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { scrubSecrets } from "../secrets.js";
import { definedProps } from "../util/defined.js";

export type Ok<T, Extra extends object = object> = { readonly OK: true; readonly Value: T } & Extra;
export interface Err {
  readonly OK: false;
  readonly Message: string;
  /**
   * The stable error code behind the message (src/errors.ts). Not DIRAC's
   * `Errno`: that one is an integer, and DIRAC code compares it with integers.
   */
  readonly Code?: ErrorCode;
  /** Present (true) when a retry may succeed: the cause may go away on its own. */
  readonly Retryable?: true;
  /** The driver (cloud type) the error came from, when it came from one. */
  readonly Driver?: string;
}
export type Result<T, Extra extends object = object> = Ok<T, Extra> | Err;

export function S_OK<T>(value: T): Ok<T>;
export function S_OK<T, Extra extends object>(value: T, extra: Extra): Ok<T, Extra>;
export function S_OK<T, Extra extends object>(value: T, extra?: Extra): Ok<T, Extra> {
  return { OK: true, Value: value, ...(extra ?? ({} as Extra)) } as Ok<T, Extra>;
}

export function S_ERROR(message: string, code?: ErrorCode): Err {
  const Message = scrubSecrets(message);
  return code === undefined ? { OK: false, Message } : { OK: false, Message, Code: code };
}

/** A CloudceError as a DIRAC error result: its message, code, and whether a retry may help. */
export function errorResult(e: CloudceError): Err {
  return {
    ...S_ERROR(e.message, e.code),
    ...(e.retryable ? { Retryable: true as const } : {}),
    ...(e.driver === undefined ? {} : { Driver: e.driver }),
  };
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

/**
 * What the lifecycle policies say, in `getCEStatus()` and `available()`'s
 * CEInfoDict (see docs/policies.md); a key is absent when it has nothing to say.
 */
export interface PolicyInfo {
  /** Why `available()` offers no slot because of a policy. */
  readonly Reason?: string;
  /** The `Instance_Flavor` entry whose quota `available()` counted with (the first available offering). */
  readonly Offering?: string;
  /** ISO time until which a fizzle backoff withholds slots, and why. */
  readonly BackoffUntil?: string;
  readonly BackoffReason?: string;
  /** Offerings skipped for lack of capacity: `offering until <ISO>`. */
  readonly UnavailableOfferings?: readonly string[];
  /** `ok`, `failing` (the last listing failed) or `circuit-open`. */
  readonly CloudHealth: "ok" | "failing" | "circuit-open";
  readonly CloudHealthReason?: string;
  /** The credential that ends first: its kind, ISO end and seconds left (negative once expired). */
  readonly CredentialKind?: string;
  readonly CredentialExpiry?: string;
  readonly CredentialSecondsLeft?: number;
  readonly CredentialWarnings?: readonly string[];
}

/** One VM that cleanup removed (or failed to), and why. */
export interface CleanupEntry {
  readonly ref: string;
  readonly name: string;
  readonly reason: "stopped" | "error" | "expired" | "boot-timeout";
  readonly error?: string;
  /** Set when the VM was not this queue's: the queue it was tagged with (empty: none). */
  readonly queue?: string;
}

/** A VM deleted before but still listed after `Delete_VerifySeconds`, deleted again. */
export interface RedeleteEntry {
  readonly ref: string;
  readonly name: string;
  /** Why it was deleted the first time (a cleanup reason, or `kill`). */
  readonly reason: string;
  /** How many times it has now been deleted again. */
  readonly attempts: number;
  readonly error?: string;
}

export interface CleanupReport {
  readonly deleted: readonly CleanupEntry[];
  readonly failed: readonly CleanupEntry[];
  /**
   * VMs this cleanup picked whose delete found them already gone: another
   * cleanup (thread, process, host) or the cloud removed them first. Present when any were.
   */
  readonly gone?: readonly CleanupEntry[];
  /** Set when the caller stopped the cleanup half-way: what was left undone. */
  readonly interrupted?: string;
  /** With `dryRun`: what the pass would delete (nothing was). */
  readonly wouldDelete?: readonly CleanupEntry[];
  /** Stuck deletes retried this time (present when any were). */
  readonly redeleted?: readonly RedeleteEntry[];
}

/** What `fn` returns, or what it threw as a DIRAC error result. */
export async function errorsAsResults<R>(log: Logger, fn: () => Promise<R>): Promise<R | Err> {
  try {
    return await fn();
  } catch (err) {
    const e = toCloudceError(err);
    // The caller gets the message in the result and reports it; logging it too would say it twice.
    log.debug("operation failed", { code: e.code, reason: e.message });
    return errorResult(e);
  }
}

/** submitJob's answer as DIRAC reads it: the references, PilotStampDict, and the notes that apply. */
export type SubmitResult = Result<
  string[],
  { PilotStampDict: Record<string, string>; Interrupted?: string; Recovered?: string; Partial?: string }
>;

export function submitResult(a: {
  readonly refs: string[];
  readonly stamps: Record<string, string>;
  readonly interrupted?: string;
  readonly recovered?: string;
  readonly partial?: string;
}): SubmitResult {
  return S_OK(a.refs, {
    PilotStampDict: a.stamps,
    ...definedProps({ Interrupted: a.interrupted, Recovered: a.recovered, Partial: a.partial }),
  });
}

/** isValid's findings as DIRAC reads them: OK with `Warnings`, or every problem on one line. */
export function validityResult(v: {
  readonly problems: readonly Problem[];
  readonly warnings: readonly Problem[];
  readonly code?: ErrorCode;
}): Result<null, { Warnings?: string[] }> {
  if (v.problems.length > 0) return S_ERROR([...new Set(v.problems.map(problemLine))].join("; "), v.code);
  const warnings = v.warnings.map(problemLine);
  return warnings.length > 0 ? S_OK(null, { Warnings: warnings }) : S_OK(null);
}

/** available()'s findings as DIRAC reads them: the slots, the counts beside them, and CEInfoDict. */
export function availableResult(a: {
  readonly slots: number;
  readonly counts: CEStatusCounts;
  readonly info: CEInfoDict & PolicyInfo;
}): Ok<number, CEStatusCounts & { CEInfoDict: CEInfoDict & PolicyInfo }> {
  return S_OK(a.slots, { ...a.counts, CEInfoDict: a.info });
}
