/**
 * EC2: pilot VMs on Amazon EC2 or an EC2-compatible cloud, through the
 * official `@aws-sdk/client-ec2`. A CE batch is one idempotent RunInstances;
 * ownership is by tags, filtered on the server. See docs/drivers/ec2.md.
 *
 * Split by concern: options.ts (Driver_* options), client.ts (client,
 * credentials, timeouts, retries), errors.ts, resources.ts (images, instance
 * types, subnets), instances.ts and create-nodes.ts (instances), bulk.ts
 * (terminate/stop), state-map.ts.
 */

import { CloudceError } from "../../errors.js";
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
import { SplitDriver } from "../split-driver.js";
import { Ec2Api } from "./client.js";
import { createNodes } from "./create-nodes.js";
import { Ec2Instances } from "./instances.js";
import { DRIVER_NAME, parseOptions, type Ec2Settings } from "./options.js";
import { Ec2Resources } from "./resources.js";

export { DRIVER_NAME, KNOWN_OPTIONS, unknownOptions, type Ec2Options } from "./options.js";

export const EC2_CAPABILITIES: DriverCapabilities = Object.freeze({
  uniformBatch: true,
  // TerminateInstances takes up to 1000 ids (bulk.ts).
  bulkDestroy: true,
  consoleOutput: true,
  stop: true,
  limits: false,
  userData: Object.freeze({ maxBytes: 16_384, measuredAs: "raw" as const }),
  ambiguousImage: "newest" as const,
});

class Ec2Driver extends SplitDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  /** The region's API (or the EC2-compatible endpoint). */
  get endpoint(): string {
    return `${this.settings.region} ${this.settings.endpoint ?? ""}`.trim();
  }
  readonly capabilities: DriverCapabilities;
  private readonly api: Ec2Api;
  protected readonly resources: Ec2Resources;
  protected readonly instances: Ec2Instances;

  constructor(
    config: DriverConfig,
    private readonly settings: Ec2Settings,
  ) {
    super();
    // With the SDK's default chain the auth file is not needed at all.
    this.capabilities = settings.defaultChain ? { ...EC2_CAPABILITIES, requiresCredentials: false } : EC2_CAPABILITIES;
    this.api = new Ec2Api({
      settings,
      credentials: config.credentials,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: config.logger,
      onThrottle: () => config.events?.throttled(),
    });
    this.resources = new Ec2Resources(this.api, settings.imageOwners, config.logger);
    this.instances = new Ec2Instances(this.api, settings, callLimitOf(config));
  }

  protected async createBatch(request: CreateNodesRequest): Promise<CreateNodesResult> {
    // Sizing the root volume needs the image's root device name.
    const root =
      this.settings.rootVolumeGb !== undefined ? await this.resources.rootDeviceName(request.imageId) : undefined;
    return createNodes(this.instances, request, root);
  }

  async getLimits(): Promise<CloudLimits> {
    throw new CloudceError(
      "NotSupported",
      "EC2: project limits are not reported by this driver (capabilities.limits is false)",
      { driver: DRIVER_NAME },
    );
  }
  async close(): Promise<void> {
    this.api.close();
  }
}

/** Checks the options (fail fast) and builds the driver; the SDK client is made on the first call. */
const factory: DriverFactory = (config: DriverConfig) => new Ec2Driver(config, parseOptions(config.options));
export default factory;
