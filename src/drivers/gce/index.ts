/**
 * GCE: pilot VMs on Google Compute Engine through the Compute v1 REST API
 * (the drivers' shared REST client; the official one would bring a gRPC
 * stack). A CE batch is one idempotent bulkInsert; ownership is by labels,
 * filtered on the server. See docs/drivers/gce.md.
 *
 * Split by concern: options.ts (Driver_* options), names.ts (instance names,
 * label encoding), token-sources.ts, token-cache.ts and credentials.ts (OAuth
 * tokens), api.ts (Compute paths on the shared REST client) and errors.ts
 * (typed errors), operations.ts (polling), create-nodes.ts (bulkInsert),
 * instances.ts (list, get, delete, stop, serial port), resources.ts (images,
 * machine types, networks, quotas), state-map.ts.
 */

import { CloudceError } from "../../errors.js";
import { SecretSlot } from "../../secrets.js";
import { sleep as realSleep } from "../../util/retry.js";
import type {
  CloudDriver,
  CloudLimits,
  CreateNodesRequest,
  CreateNodesResult,
  DriverCapabilities,
  DriverConfig,
  DriverFactory,
} from "../driver.js";
import { callLimitOf } from "../call-limit.js";
import { RestClient } from "../http/rest-client.js";
import { SplitDriver } from "../split-driver.js";
import { GceApi } from "./api.js";
import { createNodes } from "./create-nodes.js";
import { keyFileSource, needsAuthFile, resolveTokenSource } from "./credentials.js";
import { GceInstances } from "./instances.js";
import type { Clock } from "./operations.js";
import { DRIVER_NAME, parseOptions, type GceSettings } from "./options.js";
import { GceResources } from "./resources.js";
import { TokenCache } from "./token-cache.js";
import { classifyTokenAnswer, type TokenSource } from "./token-sources.js";
import { monotonicNow } from "../../util/monotonic.js";

export { DRIVER_NAME, KNOWN_OPTIONS, unknownOptions, type GceOptions } from "./options.js";

export const GCE_CAPABILITIES: DriverCapabilities = Object.freeze({
  uniformBatch: true,
  // instances.delete takes one instance; the CE runs them concurrently within its limits.
  bulkDestroy: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  // One metadata value holds at most 256 KB; user-data goes base64-encoded (user-data-encoding).
  userData: Object.freeze({ maxBytes: 262_144, measuredAs: "base64" as const }),
  ambiguousImage: "newest" as const,
  // The auth file's secret names the JSON key; the key's contents are registered as secrets when read.
  secretIsPath: true,
});

/** Injected by tests and benchmarks: the clock operations are polled with, and the environment for ADC. */
export interface GceDriverDeps {
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
}

export class GceDriver extends SplitDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  readonly capabilities: DriverCapabilities;
  /** The API and project: GCE's rate and concurrency limits are per project. */
  readonly endpoint: string;
  private readonly api: GceApi;
  protected readonly resources: GceResources;
  protected readonly instances: GceInstances;
  private readonly clock: Clock;
  private readonly tokens: TokenCache;
  /** The token endpoints' client: anonymous calls, a few connections. */
  private readonly login: RestClient;
  /** The credential's key material, registered with the scrubber while the driver lives. */
  private readonly keySecrets = new SecretSlot();
  private projectId: Promise<string> | undefined;

  constructor(
    config: DriverConfig,
    private readonly settings: GceSettings,
    deps: GceDriverDeps = {},
  ) {
    super();
    this.capabilities = needsAuthFile(settings)
      ? GCE_CAPABILITIES
      : { ...GCE_CAPABILITIES, requiresCredentials: false };
    this.endpoint = `${settings.endpoint} ${settings.project ?? "(default project)"}`;
    // Durations only (operation deadlines, token lifetimes): monotonic, so a clock step stretches none.
    this.clock = deps.clock ?? { now: monotonicNow, sleep: realSleep };
    this.login = tokenClient(config, settings, this.clock.sleep);
    // Resolved again for every new token (hourly), so a rotated key file or auth file is picked up.
    const tokenSource = (): Promise<TokenSource> =>
      resolveTokenSource({
        settings,
        credentials: config.credentials,
        login: this.login,
        secrets: this.keySecrets,
        ...(deps.env ? { env: deps.env } : {}),
      });
    const project = (): Promise<string> => {
      if (!this.projectId) {
        const found = this.findProject(tokenSource);
        found.catch(() => {
          if (this.projectId === found) this.projectId = undefined;
        });
        this.projectId = found;
      }
      return this.projectId;
    };
    const tokens = new TokenCache(tokenSource, this.clock.now);
    this.tokens = tokens;
    this.api = new GceApi({
      settings,
      tokens,
      project,
      timeoutMs: config.requestTimeoutMs,
      logger: config.logger,
      sleep: this.clock.sleep,
      onThrottle: () => config.events?.throttled(),
      abandoned: () => config.events?.abandoned?.(),
    });
    this.resources = new GceResources(this.api, settings, project);
    this.instances = new GceInstances(
      this.api,
      settings,
      config.logger,
      (lookup) => config.events?.lookupFailed(lookup),
      callLimitOf(config),
    );
  }

  private async findProject(source: () => Promise<TokenSource>): Promise<string> {
    if (this.settings.project) return this.settings.project;
    const fromCredential = await (await source()).projectId();
    if (fromCredential) return fromCredential;
    throw new CloudceError(
      "OptionMissing",
      "Driver_project: required for CloudType = GCE when the credential names no project, e.g. Driver_project = my-grid-project",
      { driver: DRIVER_NAME },
    );
  }

  protected createBatch(request: CreateNodesRequest): Promise<CreateNodesResult> {
    return createNodes(
      { api: this.api, instances: this.instances, settings: this.settings, clock: this.clock },
      request,
    );
  }
  getLimits(): Promise<CloudLimits> {
    return this.resources.limits();
  }
  /** Releases connections; the key material and the token are nobody's to scrub any more. */
  async close(): Promise<void> {
    this.tokens.forget();
    this.keySecrets.clear();
    await Promise.all([this.api.close(), this.login.close()]);
  }
}

function tokenClient(config: DriverConfig, settings: GceSettings, sleep?: (ms: number) => Promise<void>): RestClient {
  return new RestClient({
    onThrottle: () => config.events?.throttled(),
    driver: DRIVER_NAME,
    prefix: "GCE: ",
    timeoutMs: config.requestTimeoutMs,
    attempts: settings.maxAttempts,
    logger: config.logger,
    classify: classifyTokenAnswer,
    connections: 4,
    ...(sleep ? { sleep } : {}),
  });
}

/**
 * Checks the options and a Driver_key_file (readable, a key) so that
 * isValid() names them; no call goes out before the first operation.
 */
const factory: DriverFactory = async (config: DriverConfig) => {
  const settings = parseOptions(config.options);
  if (settings.keyFile) {
    const probe = new SecretSlot();
    const login = tokenClient(config, settings);
    try {
      await keyFileSource(settings.keyFile, "Driver_key_file", login, probe);
    } finally {
      probe.clear();
      await login.close();
    }
  }
  return new GceDriver(config, settings);
};
export default factory;
