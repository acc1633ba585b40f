/** Builds a CE's context (settings, credentials, driver runtime, policies) for one set of options. */

import type { Registry } from "prom-client";
import { CredentialStore } from "../auth/index.js";
import type { Logger } from "../log.js";
import { monotonicNow } from "../util/monotonic.js";
import { Audit } from "./audit.js";
import type { CeContext } from "./ce-context.js";
import { parseSettings } from "./ce-options.js";
import { DriverRuntime } from "./driver-runtime.js";
import type { FinishedPilots } from "./finished-pilots.js";
import { metricsObserver } from "./metrics-observer.js";
import { combineObservers, type CeObserver } from "./observer.js";
import type { PilotCredentials } from "./pilot-credentials.js";
import { Policies } from "./policies.js";
import type { RecentListing } from "./recent-listing.js";
import { ResourceResolver } from "./resource-resolver.js";

export interface ContextInput {
  readonly ceName: string;
  readonly params: Record<string, string>;
  readonly log: Logger;
  readonly baseDir: string;
  readonly now: () => number;
  readonly random: () => number;
  readonly metrics: Registry | null;
  readonly extraObserver: CeObserver | undefined;
  readonly held: PilotCredentials;
  readonly finished: FinishedPilots;
  readonly recent: RecentListing;
}

export function buildCeContext(input: ContextInput): CeContext {
  const { ceName, log, now, held } = input;
  const settings = parseSettings(ceName, input.params);
  const observer = combineObservers([
    ...(input.metrics
      ? [metricsObserver(input.metrics, ceName, settings.queue, { maxLifetimeSeconds: settings.maxLifetime, now })]
      : []),
    ...(input.extraObserver ? [input.extraObserver] : []),
  ]);
  const credentials = new CredentialStore({
    authFile: settings.authFile,
    section: ceName,
    logger: log,
    handed: held.handed,
  });
  const runtime = new DriverRuntime({
    cloudType: settings.cloudType,
    baseDir: input.baseDir,
    callsPerSecond: settings.rateLimit,
    maxConcurrency: settings.submitConcurrency,
    hedge: settings.hedge,
    observer,
    onBuilt: (driver) => credentials.setSecretIsPath(driver.capabilities.secretIsPath === true),
    config: {
      options: settings.driverOptions,
      credentials: () => held.forDriver(credentials),
      ceName,
      logger: log.child({ driver: settings.cloudType }),
      requestTimeoutMs: settings.requestTimeoutMs,
    },
  });
  const resolver = new ResourceResolver(settings.resolveCacheTtlMs);
  const audit = new Audit(settings, log, now, observer);
  // An injected clock (tests) drives the cool-downs too; the system clock's are monotonic.
  const elapsed = now === Date.now ? monotonicNow : now;
  const policies = new Policies(settings, audit, log, { now, random: input.random, elapsed });
  return {
    settings,
    runtime,
    credentials,
    resolver,
    audit,
    log,
    now,
    policies,
    observer,
    finished: input.finished,
    recent: input.recent,
  };
}
