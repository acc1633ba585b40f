/** What every CE operation works with, built once per set of options. */

import type { CredentialStore } from "../auth/index.js";
import type { Logger } from "../log.js";
import type { Audit } from "./audit.js";
import type { CeSettings } from "./ce-options.js";
import type { DriverRuntime } from "./driver-runtime.js";
import type { FinishedPilots } from "./finished-pilots.js";
import type { Policies } from "./policies.js";
import type { RecentListing } from "./recent-listing.js";
import type { CeObserver } from "./observer.js";
import type { ResourceResolver } from "./resource-resolver.js";

export interface CeContext {
  readonly settings: CeSettings;
  readonly runtime: DriverRuntime;
  readonly credentials: CredentialStore;
  readonly resolver: ResourceResolver;
  readonly audit: Audit;
  readonly log: Logger;
  /** The clock for VM ages (epoch ms); tests inject one. */
  readonly now: () => number;
  readonly policies: Policies;
  /** Metrics and progress; absent in contexts built by hand (tests). */
  readonly observer?: CeObserver;
  /** Pilots whose stopped VM was removed: Done, not Deleted; kept by the CE object across option changes. */
  readonly finished?: FinishedPilots;
  /** The last status listing, for this CE object's next cleanup; absent in contexts built by hand. */
  readonly recent?: RecentListing;
}
