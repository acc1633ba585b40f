/**
 * Wraps a driver so that every call of the driver contract is timed and
 * reported (operation, outcome, error code, throttled answers), and
 * creations and deletions report progress. The driver knows nothing of it
 * beyond the events it was given (DriverConfig.events), which a
 * {@link DriverCallScope} ties to the call in progress.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import {
  DRIVER_METHODS,
  type BulkResult,
  type CloudDriver,
  type CreateNodesRequest,
  type CreateNodesResult,
  type DriverEvents,
} from "../drivers/driver.js";
import { toCloudceError } from "../errors.js";
import type { CeObserver } from "./observer.js";

const OBSERVED: ReadonlySet<string> = new Set(DRIVER_METHODS.filter((m) => m !== "close"));

/**
 * One driver's events, told to the observer of the contract call they happen
 * in (so a throttled answer deep in a retry loop counts for `createNodes`);
 * a report outside any call is dropped.
 */
export class DriverCallScope {
  private readonly current = new AsyncLocalStorage<DriverEvents>();
  private readonly signals = new AsyncLocalStorage<AbortSignal>();

  /** What the CE gives the driver (DriverConfig.events). */
  readonly events: DriverEvents = {
    throttled: () => this.current.getStore()?.throttled(),
    lookupFailed: (lookup) => this.current.getStore()?.lookupFailed(lookup),
    abandoned: () => this.signals.getStore(),
  };

  run<T>(events: DriverEvents, call: () => Promise<T>): Promise<T> {
    return this.current.run(events, call);
  }

  /** Runs `call`, whose driver requests stop once `signal` aborts (the CE no longer wants the answer). */
  abandonable<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    return this.signals.run(signal, call);
  }

  /** Whether the call in progress was abandoned: its failure is nobody's. */
  get abandoned(): boolean {
    return this.signals.getStore()?.aborted === true;
  }
}

export function instrumentDriver(driver: CloudDriver, observer: CeObserver, scope: DriverCallScope): CloudDriver {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== "string" || typeof value !== "function" || !OBSERVED.has(prop)) return value;
      return (...args: unknown[]) =>
        observed(target, prop, observer, scope, requested(prop, args[0]), () =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
        );
    },
  });
}

/** How many VMs a create or destroy call asked for (counted as failed if the call throws). */
function requested(operation: string, first: unknown): number {
  if (operation === "createNodes") return (first as CreateNodesRequest | undefined)?.nodes.length ?? 0;
  return operation === "destroyNodes" ? ((first as readonly string[] | undefined)?.length ?? 0) : 0;
}

async function observed(
  driver: CloudDriver,
  operation: string,
  observer: CeObserver,
  scope: DriverCallScope,
  asked: number,
  call: () => Promise<unknown>,
): Promise<unknown> {
  const started = performance.now();
  let throttled = 0;
  const onThrottle = (): void => {
    throttled++;
    observer.throttled?.(driver.name, operation);
  };
  const seconds = (): number => (performance.now() - started) / 1000;
  try {
    const lookupFailed = (lookup: string): void => observer.lookupFailed?.(driver.name, lookup);
    const result = await scope.run({ throttled: onThrottle, lookupFailed }, call);
    // The loser of a hedged call, stopped once the other request answered: neither a call nor progress.
    if (scope.abandoned) return result;
    observer.cloudCall?.({ driver: driver.name, operation, outcome: "ok", seconds: seconds() });
    if (operation === "createNodes") {
      const r = result as CreateNodesResult;
      observer.progressed?.("create", r.created.length, r.failed.length);
    } else if (operation === "destroyNodes") {
      const r = result as BulkResult;
      observer.progressed?.("delete", r.done.length, r.failed.length);
    }
    return result;
  } catch (err) {
    if (scope.abandoned) throw err;
    const e = toCloudceError(err);
    // A driver without our retry loop still reports its final throttled answer.
    if (e.code === "RateLimited" && throttled === 0) observer.throttled?.(driver.name, operation);
    observer.cloudCall?.({ driver: driver.name, operation, outcome: "error", code: e.code, seconds: seconds() });
    if (operation === "createNodes") observer.progressed?.("create", 0, asked);
    if (operation === "destroyNodes") observer.progressed?.("delete", 0, asked);
    throw err;
  }
}
