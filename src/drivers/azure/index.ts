/**
 * AZURE: pilot VMs through Azure Resource Manager's REST API (Compute and
 * Network, one pinned api-version each) on the shared REST client; the SDK
 * packages add nothing the REST API lacks here. Ownership is by tags. See
 * docs/drivers/azure.md.
 *
 * Split by concern: options.ts, auth.ts (tokens), errors.ts (typed codes),
 * arm.ts (paths, paging, long-running operations), create.ts and
 * vm-body.ts (VMs and scale sets), instances.ts (list, get, delete, stop,
 * boot diagnostics), resources.ts (images, sizes, subnets, usage),
 * state-map.ts, names.ts, ssh-key.ts.
 */

import { SecretSlot } from "../../secrets.js";
import { monotonicNow } from "../../util/monotonic.js";
import { sleep as realSleep } from "../../util/retry.js";
import { callLimitOf } from "../call-limit.js";
import type {
  CallLimit,
  CloudDriver,
  CloudLimits,
  CreateNodesRequest,
  CreateNodesResult,
  DriverCapabilities,
  DriverConfig,
  DriverFactory,
} from "../driver.js";
import { RestClient } from "../http/rest-client.js";
import { TokenCache } from "../http/token-cache.js";
import { SplitDriver } from "../split-driver.js";
import { ArmApi, type Clock } from "./arm.js";
import { fetchToken } from "./auth.js";
import { createNodes, CUSTOM_DATA_MAX_BYTES } from "./create.js";
import { classifyAzure } from "./errors.js";
import { AzureInstances } from "./instances.js";
import { DRIVER_NAME, parseOptions, type AzureSettings } from "./options.js";
import { AzureResources } from "./resources.js";
import { readPublicKey, throwAwayKey } from "./ssh-key.js";

export { DRIVER_NAME, KNOWN_OPTIONS, unknownOptions, type AzureOptions } from "./options.js";
export { AZURE_NAME_RULE } from "./names.js";

export const AZURE_CAPABILITIES: DriverCapabilities = Object.freeze({
  uniformBatch: false,
  // A VM is deleted by itself; the CE runs the deletes concurrently within its limits.
  bulkDestroy: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  userData: Object.freeze({ maxBytes: CUSTOM_DATA_MAX_BYTES, measuredAs: "raw" as const }),
  ambiguousImage: "newest" as const,
});

/** Injected by tests and benchmarks: the clock operations are followed with. */
export interface AzureDriverDeps {
  readonly clock?: Clock;
}

export class AzureDriver extends SplitDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  readonly capabilities: DriverCapabilities;
  /** Resource Manager's limits are per subscription. */
  readonly endpoint: string;
  protected readonly resources: AzureResources;
  protected readonly instances: AzureInstances;
  private readonly api: RestClient;
  private readonly login: RestClient;
  private readonly tokens: TokenCache;
  /** The certificate's key, and the token in use: each in a slot of its own, so neither replaces the other. */
  private readonly keySecrets = new SecretSlot();
  private readonly tokenSecrets = new SecretSlot();
  private readonly limit: CallLimit;
  private sshKey: Promise<string> | undefined;

  constructor(
    config: DriverConfig,
    private readonly settings: AzureSettings,
    deps: AzureDriverDeps = {},
  ) {
    super();
    // A certificate's secret is the path of its PEM (its key is registered as a secret when read).
    const base =
      settings.credentials === "managed-identity"
        ? { ...AZURE_CAPABILITIES, requiresCredentials: false }
        : settings.credentials === "certificate"
          ? { ...AZURE_CAPABILITIES, secretIsPath: true }
          : AZURE_CAPABILITIES;
    this.capabilities = settings.scaleSet ? { ...base, uniformBatch: true } : base;
    this.endpoint = `${settings.endpoint} ${settings.subscriptionId}`;
    const clock = deps.clock ?? { now: monotonicNow, sleep: realSleep };
    const common = {
      driver: DRIVER_NAME,
      timeoutMs: config.requestTimeoutMs,
      attempts: settings.maxAttempts,
      logger: config.logger,
      classify: classifyAzure,
      sleep: clock.sleep,
      onThrottle: () => config.events?.throttled(),
    };
    this.login = new RestClient({ ...common, baseUrl: settings.authority, connections: 4 });
    this.tokens = new TokenCache(
      () => fetchToken({ settings, credentials: config.credentials, http: this.login, secrets: this.keySecrets }),
      clock.now,
      (token) => this.tokenSecrets.set(token),
    );
    this.api = new RestClient({ ...common, baseUrl: settings.endpoint, tokens: this.tokens });
    const arm = new ArmApi(this.api, settings, clock);
    this.limit = callLimitOf(config);
    this.resources = new AzureResources(arm);
    this.instances = new AzureInstances(arm, this.limit);
    this.arm = arm;
  }

  private readonly arm: ArmApi;

  private sshPublicKey(): Promise<string> {
    if (!this.sshKey) {
      const key = this.settings.sshPublicKeyFile ? readPublicKey(this.settings.sshPublicKeyFile) : throwAwayKey();
      key.catch(() => {
        if (this.sshKey === key) this.sshKey = undefined;
      });
      this.sshKey = key;
    }
    return this.sshKey;
  }

  protected createBatch(request: CreateNodesRequest): Promise<CreateNodesResult> {
    const ctx = {
      arm: this.arm,
      instances: this.instances,
      limit: this.limit,
      sshPublicKey: () => this.sshPublicKey(),
    };
    return createNodes(ctx, request, this.settings.scaleSet);
  }
  getLimits(): Promise<CloudLimits> {
    return this.resources.limits();
  }
  async close(): Promise<void> {
    this.tokens.invalidate();
    this.keySecrets.clear();
    this.tokenSecrets.clear();
    await Promise.all([this.api.close(), this.login.close()]);
  }
}

/** Checks the options (and the SSH key file) so that isValid() names them; no call goes out before the first operation. */
const factory: DriverFactory = async (config: DriverConfig) => {
  const settings = parseOptions(config.options);
  if (settings.sshPublicKeyFile) await readPublicKey(settings.sshPublicKeyFile);
  return new AzureDriver(config, settings);
};
export default factory;
