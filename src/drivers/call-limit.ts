/**
 * How many calls a driver runs at once is the CE's to decide: the CE gives
 * every driver it builds its adaptive limit (`DriverConfig.limit`). A driver
 * built without a CE (a test, a script) gets this one fixed bound instead, so
 * no driver picks a number of its own.
 */

import { fixedGate } from "../util/pool.js";
import type { CallLimit, DriverConfig } from "./driver.js";

/** Calls in flight at once for a driver used without a CE. */
const STANDALONE_CALLS = 4;

function fixedCallLimit(limit: number): CallLimit {
  const gate = fixedGate(limit);
  return (_kind, call, signal) => gate(call, signal);
}

/** The CE's limit from the driver's configuration, or the standalone bound. */
export function callLimitOf(config: Pick<DriverConfig, "limit">): CallLimit {
  return config.limit ?? fixedCallLimit(STANDALONE_CALLS);
}
