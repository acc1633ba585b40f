/**
 * KUBERNETES: each pilot is one bare pod (restartPolicy Never) on any
 * cluster, through the official client. A bare pod rather than a Job: killing
 * a pilot deletes exactly that pod and no controller makes another, a failed
 * pilot is never retried by Kubernetes (the site director decides), and it
 * costs one object and one RBAC resource less. The node's user-data is a
 * manifest (manifest.ts); its Secrets (the pilot wrapper, which may hold
 * tokens) are owned by the pod and garbage-collected with it. Ownership is by
 * labels, selected on the server. See docs/drivers/kubernetes.md.
 *
 * Split by concern: options.ts, connection.ts (kubeconfig, in-cluster, the
 * scrubber), api.ts and errors.ts (calls, retries, typed errors), names.ts
 * (pod names, label encoding), manifest.ts and schema.ts (the pod to send),
 * pods.ts (create, list, get, delete, log), resources.ts (images, flavors,
 * quotas), state-map.ts.
 */

import { CloudceError } from "../../errors.js";
import { SecretSlot } from "../../secrets.js";
import type {
  BulkResult,
  CallLimit,
  CloudDriver,
  CloudFlavor,
  CloudLimits,
  CloudNode,
  CloudResource,
  CreateNodesRequest,
  CreateNodesResult,
  DriverCapabilities,
  DriverConfig,
  DriverFactory,
  NodeFailure,
  NodeFilter,
  NodeSpec,
  ResourceQuery,
} from "../driver.js";
import { callLimitOf } from "../call-limit.js";
import { KubeApi } from "./api.js";
import { connect, type ConnectionDeps } from "./connection.js";
import { parseManifest, planPod, SECRET_MAX_BYTES } from "./manifest.js";
import { podName } from "./names.js";
import { DRIVER_NAME, parseOptions, type KubernetesSettings } from "./options.js";
import { Pods } from "./pods.js";
import {
  flavorQuantities,
  IMAGE_FORM,
  limitsFromQuotas,
  listFlavors,
  listImages,
  parseFlavor,
  POD_SIZE,
} from "./resources.js";

export { DRIVER_NAME, KNOWN_OPTIONS, unknownOptions } from "./options.js";

export const KUBERNETES_CAPABILITIES: DriverCapabilities = Object.freeze({
  uniformBatch: false,
  // One pod per DELETE; the CE runs them concurrently within its limits.
  bulkDestroy: false,
  consoleOutput: true,
  // A pod cannot be paused: it runs or is deleted.
  stop: false,
  limits: true,
  // The manifest carries the pilot in a Secret, which holds at most 1 MiB.
  userData: Object.freeze({
    maxBytes: SECRET_MAX_BYTES,
    measuredAs: "raw" as const,
    format: "kubernetes-manifest" as const,
  }),
  ambiguousImage: "error" as const,
  // The kubeconfig (or the service account) is the credential.
  requiresCredentials: false,
});

export class KubernetesDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  readonly capabilities = KUBERNETES_CAPABILITIES;
  /** The API server and namespace: CEs of one process on the same one share the CE's concurrency limit. */
  readonly endpoint: string;
  private readonly pods: Pods;
  private readonly api: KubeApi;
  private readonly secrets = { config: new SecretSlot(), sent: new SecretSlot() };
  /** The CE's concurrency limit for per-pod calls; alone, a small fixed bound. */
  private readonly limit: CallLimit;

  constructor(
    config: DriverConfig,
    private readonly settings: KubernetesSettings,
    deps: ConnectionDeps = {},
  ) {
    const connection = connect(settings, config.requestTimeoutMs, this.secrets, deps);
    this.api = new KubeApi({
      api: connection.api,
      namespace: connection.namespace,
      timeoutMs: config.requestTimeoutMs,
      logger: config.logger,
      ...(deps.random ? { random: deps.random } : {}),
      onThrottle: () => config.events?.throttled(),
    });
    this.endpoint = `${connection.server} ${connection.namespace}`;
    this.pods = new Pods(this.api, settings.pageSize);
    this.limit = callLimitOf(config);
  }

  /** The namespace pilots run in. */
  get namespace(): string {
    return this.api.namespace;
  }

  async listImages(query?: ResourceQuery): Promise<CloudResource[]> {
    return listImages(this.settings, query);
  }
  async listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]> {
    return listFlavors(query);
  }
  /** Pods use the cluster's network: there is nothing to choose. */
  async listNetworks(): Promise<CloudResource[]> {
    return [];
  }

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    const flavor = parseFlavor(request.flavorId);
    if (!flavor)
      throw new CloudceError(
        "FlavorNotFound",
        `${DRIVER_NAME}: flavor '${request.flavorId.slice(0, 40)}' is not a pod size`,
        {
          driver: DRIVER_NAME,
          refused: { input: "flavor", problem: "malformed", expected: POD_SIZE },
        },
      );
    if (listImages(this.settings, { id: request.imageId }).length === 0) {
      throw new CloudceError(
        "ImageNotFound",
        `${DRIVER_NAME}: image '${request.imageId.slice(0, 80)}' is not an image reference`,
        { driver: DRIVER_NAME, refused: { input: "image", problem: "malformed", expected: IMAGE_FORM } },
      );
    }
    if (request.networkIds.length > 0)
      throw new CloudceError("NetworkNotFound", `${DRIVER_NAME}: pods use the cluster's network`, {
        driver: DRIVER_NAME,
        refused: { input: "network", problem: "unwanted" },
      });
    // Every manifest is checked before the first call: a bad one costs nothing.
    const plans = request.nodes.map((spec) => this.plan(spec, request, flavor));
    if (plans.length === 1)
      return { created: [await this.limit("create", () => this.pods.create(plans[0]!, flavor))], failed: [] };
    const created: CloudNode[] = [];
    const failed: NodeFailure[] = [];
    await Promise.all(
      plans.map(async (plan, i) => {
        try {
          created.push(await this.limit("create", () => this.pods.create(plan, flavor)));
        } catch (err) {
          failed.push({ target: request.nodes[i]!.name, error: err instanceof Error ? err : new Error(String(err)) });
        }
      }),
    );
    return { created, failed };
  }

  private plan(spec: NodeSpec, request: CreateNodesRequest, flavor: CloudFlavor) {
    return planPod(parseManifest(spec.userData), {
      podName: podName(spec.name),
      namespace: this.api.namespace,
      vmName: spec.name,
      metadata: spec.metadata,
      requestId: request.requestId,
      image: request.imageId,
      ...flavorQuantities(flavor),
    });
  }

  /** The manifest checks a create makes before its first call. */
  checkUserData(userData: Uint8Array): void {
    parseManifest(userData);
  }

  listNodes(filter: NodeFilter): Promise<CloudNode[]> {
    return this.pods.list(filter);
  }
  getNode(id: string): Promise<CloudNode | undefined> {
    return this.pods.get(id);
  }

  async destroyNodes(ids: readonly string[]): Promise<BulkResult> {
    const done: string[] = [];
    const gone: string[] = [];
    const failed: NodeFailure[] = [];
    await Promise.all(
      ids.map(async (id) => {
        try {
          if (await this.limit("delete", () => this.pods.delete(id))) gone.push(id);
          done.push(id);
        } catch (err) {
          failed.push({ target: id, error: err instanceof Error ? err : new Error(String(err)) });
        }
      }),
    );
    return { done, failed, ...(gone.length > 0 ? { gone } : {}) };
  }

  async stopNodes(): Promise<BulkResult> {
    throw new CloudceError("NotSupported", `${DRIVER_NAME}: a pod cannot be stopped, only deleted`, {
      driver: DRIVER_NAME,
    });
  }

  getConsoleOutput(id: string): Promise<string> {
    return this.pods.log(id, this.settings.logBytes);
  }

  async getLimits(): Promise<CloudLimits> {
    return limitsFromQuotas(await this.pods.quotas());
  }

  async close(): Promise<void> {
    this.secrets.config.clear();
    this.secrets.sent.clear();
  }
}

/** Checks the options and reads the kubeconfig, so that isValid() names a problem; no call goes out. */
const factory: DriverFactory = (config: DriverConfig) => new KubernetesDriver(config, parseOptions(config.options));
export default factory;
