/**
 * The CE's words for facts a driver reports: a quota reached, the cloud
 * throttling, a request with no answer in the time the CE allows. A driver says what happened at the cloud (and what the cloud's
 * own console can change) with a code; which CE option helps is the CE's to
 * say, so every driver's refusal names the same options the same way.
 */

import { type CloudDriver, DRIVER_METHODS, type NodeFailure } from "../drivers/driver.js";
import { type CloudceError, type ErrorCode, isCloudceError } from "../errors.js";

const HINTS: Partial<Record<ErrorCode, string>> = {
  QuotaExceeded: "lower MaxTotalJobs to stay within it",
  RateLimited: "lower Cloud_RateLimit if it persists",
};
/** Only for a request the cloud left unanswered: a Timeout of the CE's own (a stop, a deadline) is not about this option. */
const REQUEST_TIMEOUT_HINT = "the time allowed is Cloud_RequestTimeout";

function hintFor(err: CloudceError): string | undefined {
  if (err.code === "Timeout") return err.requestTimedOut ? REQUEST_TIMEOUT_HINT : undefined;
  return HINTS[err.code];
}

/** Errors that carry the CE's hint already (one error may pass here twice, e.g. a failure re-thrown). */
const hinted = new WeakSet<CloudceError>();

/** Appends the CE's hint to a driver's error whose code has one; anything else is returned as it is. */
export function withCeHint<E>(err: E): E {
  if (!isCloudceError(err) || err.driver === undefined || hinted.has(err)) return err;
  const hint = hintFor(err);
  if (hint === undefined) return err;
  hinted.add(err);
  // The error keeps its identity and every field: only the words for the operator grow.
  err.message = `${err.message}; ${hint}`;
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
