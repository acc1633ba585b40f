/**
 * What the CE reports as it works, for metrics and progress: each cloud
 * call, each throttled answer, the VMs it created and deleted, what its
 * listings show, and the slots it offered. Observers must not throw.
 */

import type { CloudNode } from "../drivers/driver.js";
import type { AuditEvent } from "./audit.js";
import type { PolicyInfo } from "./results.js";

export interface CloudCallEvent {
  readonly driver: string;
  readonly operation: string;
  readonly outcome: "ok" | "error";
  /** The error code of a failed call. */
  readonly code?: string;
  readonly seconds: number;
}

export interface CeObserver {
  cloudCall?(e: CloudCallEvent): void;
  /** One throttled answer (HTTP 429, RequestLimitExceeded), retried or not. */
  throttled?(driver: string, operation: string): void;
  /** A secondary look-up a driver could not make (e.g. GCE preemptions): what it reported is less precise. */
  lookupFailed?(driver: string, lookup: string): void;
  /** VMs created, deleted, or that failed to be (as journaled). */
  vms?(events: readonly AuditEvent[]): void;
  /** A listing of this CE's VMs. */
  listed?(nodes: readonly CloudNode[]): void;
  slots?(n: number): void;
  /** How many VMs an operation is about to create or delete (for "deleted 120/500"). */
  planned?(action: "create" | "delete", total: number): void;
  /** VMs created or deleted by one cloud call that just returned. */
  progressed?(action: "create" | "delete", done: number, failed: number): void;
  /** The concurrency limit of an endpoint after one of its calls that cannot be batched. */
  concurrency?(driver: string, endpoint: string, limit: number): void;
  /** A slow idempotent call got a duplicate (`list`, `delete`, `lookup`): whether the duplicate answered first. */
  hedged?(driver: string, endpoint: string, operation: string, outcome: "won" | "lost"): void;
  /** What the lifecycle policies say (breaker, fizzle backoff, credentials), each time getCEStatus() or available() tells it. */
  policies?(info: PolicyInfo): void;
}

/** Calls every observer's hook; one observer failing never disturbs the CE. */
export function combineObservers(observers: readonly CeObserver[]): CeObserver {
  const each = <K extends keyof CeObserver>(key: K) =>
    ((...args: unknown[]) => {
      for (const o of observers) {
        try {
          (o[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
        } catch {
          // Metrics and progress are best effort.
        }
      }
    }) as NonNullable<CeObserver[K]>;
  return {
    cloudCall: each("cloudCall"),
    throttled: each("throttled"),
    lookupFailed: each("lookupFailed"),
    vms: each("vms"),
    listed: each("listed"),
    slots: each("slots"),
    planned: each("planned"),
    progressed: each("progressed"),
    concurrency: each("concurrency"),
    hedged: each("hedged"),
    policies: each("policies"),
  };
}
