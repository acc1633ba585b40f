/** The concurrency bound of a driver used without a CE (the CE gives drivers its adaptive limit). */

import { fixedGate } from "../util/pool.js";
import type { CallLimit } from "./driver.js";

export function fixedCallLimit(limit: number): CallLimit {
  const gate = fixedGate(limit);
  return (_kind, call, signal) => gate(call, signal);
}
