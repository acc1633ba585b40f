/** What a caller of CloudComputingElement passes and gets back, beside DIRAC's result shapes: types, options, the description. */

import type { Registry } from "prom-client";
import type { UserDataLimit } from "../context/index.js";
import { nameRuleLoading } from "../drivers/registry.js";
import type { Logger } from "../log.js";
import { CloudceError, problemsError } from "../errors.js";
import { optionProblems } from "./ce-options.js";
import type { CeObserver } from "./observer.js";

/**
 * The most pilots one submitJob creates: far above a site director's cycle, and
 * small enough that a typo (`-n 1000000000`) cannot exhaust the machine or the cloud.
 */
export const MAX_PILOTS_PER_SUBMIT = 10_000;

/** How a submission may be stopped half-way. */
export interface SubmitOptions {
  readonly signal?: AbortSignal;
  /** The caller's key for this submission (submission-key.ts): every VM carries it; VMs that already do are answered instead of created. */
  readonly submission?: string;
}

/** How the caller names its inputs in messages: a program calls methods, an operator gives flags. */
export interface CallerTerms {
  /** The fix when the auth file wants a proxy and none was given. */
  readonly giveProxy: string;
  /** What submitJob's executable argument is called. */
  readonly executable: string;
  /** What submitJob's pilot count is called. */
  readonly count: string;
}

/** A program's terms: the method and argument names. */
export const API_TERMS: CallerTerms = {
  giveProxy: "call setProxy() first",
  executable: "executableFile",
  count: "numberOfJobs",
};

/** Option values as a site director hands them over. */
export type CeOptionValue = string | number | boolean | readonly string[];

export interface CloudComputingElementOptions {
  readonly logger?: Logger;
  /** Where relative paths (user driver modules) are resolved from; default: the working directory. */
  readonly baseDir?: string;
  /** The clock cleanup and the lifecycle policies judge by (epoch ms); default `Date.now`. */
  readonly now?: () => number;
  /** In [0, 1): the circuit breaker's jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Where the CE's Prometheus metrics go: default the library's `metricsRegistry`; null for none. */
  readonly metrics?: Registry | null;
  /** Told of the CE's work as it happens (cloud calls, VMs created and deleted, progress). */
  readonly observer?: CeObserver;
  /** How messages name the caller's inputs; default {@link API_TERMS}. */
  readonly terms?: CallerTerms;
}

/** What `renderUserData` returns. */
export interface RenderedUserData {
  readonly text: string;
  readonly encodedBytes: number;
  readonly compressed: boolean;
  readonly limit: UserDataLimit;
}

/** How an argument of the wrong type is named in an error: never its value (it may be a secret). */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  return t === "undefined" ? "nothing" : `${/^[aeiou]/.test(t) ? "an" : "a"} ${t}`;
}

/**
 * `current` with `options` added, later values winning; lists become comma-separated text.
 * Only malformed values are refused here (`OptionInvalid`, with every problem): a missing mandatory option may still come.
 * The cloud type's instance-name rule must be loaded first (see {@link nameRuleFor}).
 */
export function mergedOptions(
  current: Readonly<Record<string, string>>,
  options: Readonly<Record<string, CeOptionValue>>,
): Record<string, string> {
  // The site director's side is untyped (JSON-RPC, Python): say what was wrong rather than throw a TypeError.
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new CloudceError(
      "OptionInvalid",
      `setParameters: expects a dictionary of CE options (name → value), got ${kindOf(options)}`,
    );
  }
  const next = { ...current };
  for (const [k, v] of Object.entries(options)) next[k] = Array.isArray(v) ? v.join(",") : String(v);
  const malformed = optionProblems(next).filter((p) => p.code !== "OptionMissing");
  if (malformed.length > 0) throw problemsError(malformed, "OptionInvalid");
  return next;
}

/**
 * The load of the instance-name rule of the cloud type `options` set (or
 * kept), when it is still to be made: only a cloud type's first CE in the
 * process waits for it. Otherwise undefined, so that the options are stored
 * at once and a call sent right behind setParameters sees them.
 */
export function nameRuleFor(
  current: Readonly<Record<string, string>>,
  options: Readonly<Record<string, CeOptionValue>>,
): Promise<unknown> | undefined {
  const given = typeof options === "object" && options !== null ? options["CloudType"] : undefined;
  const cloudType = typeof given === "string" ? given : current["CloudType"];
  return cloudType === undefined ? undefined : nameRuleLoading(cloudType);
}

/** The CE description (options, integers as numbers), as DIRAC's JobAgent reads it. */
export function describeCe(
  params: Readonly<Record<string, string>>,
  ceName: string,
  ceType: string,
): Record<string, string | number> {
  const dict: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params)) dict[k] = /^-?\d+$/.test(v) ? Number(v) : v;
  dict["CEName"] = ceName;
  dict["CEType"] = ceType;
  dict["NumberOfProcessors"] = Number(params["NumberOfProcessors"] ?? 1);
  return dict;
}
