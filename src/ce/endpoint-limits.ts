/**
 * The adaptive concurrency limits of the process, one per cloud endpoint:
 * every CE object talking to the same API learns, and keeps to, one limit
 * (DIRAC's PilotManager builds a CE object per request; what the last one
 * learnt is not thrown away). A limited call that makes further limited
 * calls of the same endpoint (a driver fanning out inside a call the CE
 * already limited) does not wait for a second slot.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { toCloudceError } from "../errors.js";
import { lruEntry } from "../util/lru.js";
import { AdaptiveLimit, type CallOutcome, type RunOptions } from "./adaptive-limit.js";

/** Endpoints remembered at most; the least recently used is forgotten first. */
const MAX_ENDPOINTS = 256;

const limits = new Map<string, AdaptiveLimit>();
const held = new AsyncLocalStorage<ReadonlySet<AdaptiveLimit>>();

/** The limit of one endpoint, created with `max` as its bound, raised to `max` if a CE allows more. */
export function endpointLimit(key: string, max: number): AdaptiveLimit {
  const limit = lruEntry(limits, key, MAX_ENDPOINTS, () => new AdaptiveLimit({ max }));
  limit.raiseMax(max);
  return limit;
}

/** Forgets every endpoint's limit (tests). */
export function resetEndpointLimits(): void {
  limits.clear();
}

/** Throttled answers and timeouts say the cloud has too much to do; other failures say nothing about load. */
function judgeFailure(err: unknown): CallOutcome {
  const code = toCloudceError(err).code;
  return code === "RateLimited" || code === "Timeout" ? "overloaded" : "ignored";
}

/** Runs `call` within `limit`, unless this async context already holds a slot of it. */
export function runLimited<T>(
  limit: AdaptiveLimit,
  kind: string,
  call: () => Promise<T>,
  options: Omit<RunOptions, "judge"> = {},
): Promise<T> {
  const mine = held.getStore();
  if (mine?.has(limit)) return call();
  const inside = new Set([...(mine ?? []), limit]);
  return limit.run(kind, () => held.run(inside, call), { ...options, judge: judgeFailure });
}
