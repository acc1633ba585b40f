/**
 * Puts the CE's hints (driver-hint-words.ts) on the errors a driver reports,
 * thrown or per node, as they leave the driver for the CE.
 */

import { type CloudDriver, DRIVER_METHODS, type NodeFailure } from "../drivers/driver.js";
import { type CloudceError, isCloudceError } from "../errors.js";
import { hintsFor } from "./driver-hint-words.js";

/** Errors that carry the CE's hint already (one error may pass here twice, e.g. a failure re-thrown). */
const hinted = new WeakSet<CloudceError>();

/** Appends the CE's hints to a driver's error whose facts call for them; anything else is returned as it is. */
export function withCeHint<E>(err: E): E {
  if (!isCloudceError(err) || err.driver === undefined || hinted.has(err)) return err;
  const hints = hintsFor(err);
  if (hints.length === 0) return err;
  hinted.add(err);
  // The error keeps its identity and every field: only the words for the operator grow.
  err.message = [err.message, ...hints].join("; ");
  return err;
}

const WRAPPED: ReadonlySet<string> = new Set(DRIVER_METHODS.filter((m) => m !== "close"));

/** The driver, its errors and per-node failures worded with the CE's hints. */
export function hintedDriver(driver: CloudDriver): CloudDriver {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== "string" || typeof value !== "function" || !WRAPPED.has(prop)) return value;
      return async (...args: unknown[]) => {
        try {
          return withFailureHints(await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        } catch (err) {
          throw withCeHint(err);
        }
      };
    },
  });
}

/** A create or bulk result's failures, hinted; any other value untouched. */
function withFailureHints<T>(result: T): T {
  const failed = (result as { failed?: unknown } | undefined)?.failed;
  if (Array.isArray(failed)) for (const f of failed as NodeFailure[]) withCeHint(f.error);
  return result;
}
