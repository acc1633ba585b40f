/**
 * The OPENSTACK driver: the CloudDriver contract on Nova, Glance and
 * Neutron. A batch of nodes sharing one name is one multi-create
 * `POST /servers` (server-create.ts); a create whose answer was lost is
 * looked up by name before anything is sent again (lost-create.ts), so one
 * pilot never becomes two VMs.
 */

import { CloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { mapGated } from "../../util/pool.js";
import { callLimitOf } from "../call-limit.js";
import { sleep as realSleep, type RetryPolicy } from "../../util/retry.js";
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
  CredentialExpiry,
  DriverCapabilities,
  NodeFailure,
  NodeFilter,
  NodeSpec,
  ResourceQuery,
} from "../driver.js";
import { NovaApi, type ServerCreate } from "./compute.js";
import { keystoneCredentialExpiry } from "./credential-expiry.js";
import { ServerCreator } from "./server-create.js";
import { ServerListing, type TagMode } from "./server-listing.js";
import type { OpenStackHttp } from "./http.js";
import { faultMessage } from "./http-errors.js";
import { GlanceApi } from "./image.js";
import { NeutronApi } from "./network.js";
import { DRIVER_NAME, microversionAtLeast, type ParsedOptions } from "./options.js";
import type { OpenStackSession } from "./session.js";
import { nodeState, toCloudNode } from "./state-map.js";

const CAPABILITIES: DriverCapabilities = {
  uniformBatch: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  userData: { maxBytes: 65_535, measuredAs: "base64" },
  ambiguousImage: "error",
};

export interface OpenStackParts {
  readonly http: OpenStackHttp;
  /** Keystone's client: calls with the credentials they carry. */
  readonly login: OpenStackHttp;
  readonly session: OpenStackSession;
  readonly options: ParsedOptions;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The request timeout: how long look-ups go on after a create lost its answer. */
  readonly settleMs: number;
  /** True when credentials come from elsewhere (clouds.yaml) and the auth file may be absent. */
  readonly credentialsOptional?: boolean;
  /** Drops the driver's credentials and tokens from the secret scrubber (at close). */
  readonly forgetSecrets?: () => void;
  /** The CE's concurrency limit for calls made one VM at a time (DriverConfig.limit). */
  readonly limit?: CallLimit;
  /** Told of each throttled answer, retried or not (DriverConfig.events). */
  readonly onThrottle?: () => void;
}

/** Settled per-item results as successes and failures named by `target(index)`. */
function partition<T>(
  settled: readonly PromiseSettledResult<T>[],
  target: (index: number) => string,
): { ok: T[]; failed: NodeFailure[] } {
  const ok: T[] = [];
  const failed: NodeFailure[] = [];
  settled.forEach((r, i) => {
    if (r.status === "fulfilled") ok.push(r.value);
    else failed.push({ target: target(i), error: r.reason as Error });
  });
  return { ok, failed };
}

export class OpenStackDriver implements CloudDriver {
  readonly name = DRIVER_NAME;
  /** Keystone, and the region, interface and compute URL the calls go to. */
  readonly endpoint: string;
  private readonly baseCapabilities: DriverCapabilities;
  private readonly nova: NovaApi;
  private readonly glance: GlanceApi;
  private readonly neutron: NeutronApi;
  private readonly listing: ServerListing;
  private readonly creator: ServerCreator;
  private readonly limit: CallLimit;

  constructor(private readonly parts: OpenStackParts) {
    this.nova = new NovaApi(parts.session, parts.options.microversion);
    this.glance = new GlanceApi(parts.session);
    this.neutron = new NeutronApi(parts.session);
    const o = parts.options;
    this.endpoint = [o.authUrl, o.region, o.endpointInterface, o.computeUrl].filter((v) => v !== undefined).join(" ");
    this.listing = new ServerListing(
      this.nova,
      o,
      `${this.endpoint} ${o.projectId ?? o.projectName ?? ""}`,
      parts.logger,
    );
    const mode = parts.options.multiCreate;
    this.limit = callLimitOf(parts);
    this.creator = new ServerCreator({
      nova: this.nova,
      mode,
      limit: this.limit,
      retry: parts.retry,
      logger: parts.logger,
      sleep: parts.sleep ?? realSleep,
      settleMs: parts.settleMs,
      onThrottle: parts.onThrottle,
    });
    // One user-data for a whole batch unless multi-create is off; clouds.yaml holding the secret makes the auth file optional.
    this.baseCapabilities = {
      ...CAPABILITIES,
      uniformBatch: mode !== "off",
      ...(parts.credentialsOptional ? { requiresCredentials: false } : {}),
    };
  }

  /**
   * Once the cloud has refused multi-create, batches are no longer offered:
   * the CE then creates one VM per call, paced by its own limits.
   */
  get capabilities(): DriverCapabilities {
    return this.creator.refusesBatches ? { ...this.baseCapabilities, uniformBatch: false } : this.baseCapabilities;
  }

  listImages(query?: ResourceQuery): Promise<CloudResource[]> {
    return this.glance.listImages(query);
  }

  async listFlavors(query: ResourceQuery = {}): Promise<CloudFlavor[]> {
    if (query.id !== undefined) {
      const one = await this.nova.getFlavor(query.id);
      return one && (query.name === undefined || one.name === query.name) ? [one] : [];
    }
    const all = await this.nova.listFlavors();
    return query.name === undefined ? all : all.filter((f) => f.name === query.name);
  }

  listNetworks(query?: ResourceQuery): Promise<CloudResource[]> {
    return this.neutron.listNetworks(query);
  }

  /** Nodes sharing a name are one batch (the CE's uniform batch); each batch is created on its own. */
  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    const batches = new Map<string, NodeSpec[]>();
    for (const spec of request.nodes) batches.set(spec.name, [...(batches.get(spec.name) ?? []), spec]);
    const groups = [...batches.values()];
    // The creator reports every failure in its result; a rejection here is a bug, still reported per node.
    // A single create is one call, within the limit; a batch's own per-VM creates keep to it inside the creator.
    const mode = await this.listing.tagMode();
    const create = (specs: NodeSpec[]): Promise<CreateNodesResult> =>
      this.creator.create(this.serverBody(request, specs[0]!, mode), specs[0]!, specs.length, request.signal);
    const results = await Promise.allSettled(
      groups.map((specs) =>
        specs.length === 1 ? this.limit("create", () => create(specs), request.signal) : create(specs),
      ),
    );
    const created = results.flatMap((r) => (r.status === "fulfilled" ? r.value.created : []));
    const failed = results.flatMap((r, i): NodeFailure[] =>
      r.status === "fulfilled"
        ? [...r.value.failed]
        : groups[i]!.map((spec) => ({ target: spec.name, error: r.reason as Error })),
    );
    return { created, failed };
  }

  private serverBody(request: CreateNodesRequest, spec: NodeSpec, mode: TagMode | undefined): ServerCreate {
    const tags = this.listing.bootTags(mode, spec.metadata);
    // From 2.37 Nova wants networks; tags bring 2.52.
    const networks =
      request.networkIds.length > 0
        ? request.networkIds.map((uuid) => ({ uuid }))
        : mode || microversionAtLeast(this.parts.options.microversion, 37)
          ? "auto"
          : undefined;
    return {
      name: spec.name,
      imageRef: request.imageId,
      flavorRef: request.flavorId,
      ...(networks === undefined ? {} : { networks }),
      ...(request.keyName ? { key_name: request.keyName } : {}),
      user_data: Buffer.from(spec.userData).toString("base64"),
      config_drive: true,
      metadata: spec.metadata,
      ...(tags ? { tags } : {}),
    };
  }

  /** By the filter's tags where the cloud has them (server-listing.ts), else by name prefix; the metadata is checked again. */
  async listNodes(filter: NodeFilter): Promise<CloudNode[]> {
    return (await this.listing.list(filter)).map(toCloudNode).filter((n) => n.state !== "gone");
  }

  async getNode(id: string): Promise<CloudNode | undefined> {
    const server = await this.nova.getServer(id);
    return server ? toCloudNode(server) : undefined;
  }

  async destroyNodes(ids: readonly string[]): Promise<BulkResult> {
    const gone: string[] = [];
    // Nova accepts a second DELETE of a server being deleted: only a 404 is a fact that another delete came first.
    const result = await this.bulk(ids, "delete", async (id) => {
      if ((await this.nova.deleteServer(id)) === "gone") gone.push(id);
    });
    return { ...result, gone };
  }

  stopNodes(ids: readonly string[]): Promise<BulkResult> {
    return this.bulk(ids, "stop", (id) => this.stopOne(id));
  }

  private async stopOne(id: string): Promise<void> {
    const { status, text } = await this.nova.action(id, { "os-stop": null });
    if (status !== 404 && status !== 409) return;
    // 409: not in a state that can be stopped; already (being) stopped is success.
    // 404: gone, or still being scheduled (real Nova has no instance yet, only a build request).
    const server = await this.nova.getServer(id);
    if (!server)
      throw new CloudceError("NodeNotFound", `compute os-stop: server ${id} does not exist`, {
        driver: DRIVER_NAME,
        status,
      });
    const state = nodeState(server.status, server["OS-EXT-STS:task_state"]);
    if (state === "stopped" || state === "stopping") return;
    throw new CloudceError(
      "CloudError",
      `compute os-stop: server ${id} cannot be stopped in state ${server.status} (HTTP ${status} ${faultMessage(text).slice(0, 120)})`,
      { driver: DRIVER_NAME, status },
    );
  }

  /** One call per id, each within the CE's limit (a call the CE already limited does not wait again). */
  private async bulk(
    ids: readonly string[],
    kind: "delete" | "stop",
    act: (id: string) => Promise<void>,
  ): Promise<BulkResult> {
    const gate = <T>(call: () => Promise<T>): Promise<T> => this.limit(kind, call);
    const settled = await mapGated(ids, gate, async (id) => {
      await act(id);
      return id;
    });
    const { ok, failed } = partition(
      settled.map((r) => r!),
      (i) => ids[i]!,
    );
    return { done: ok, failed };
  }

  async getConsoleOutput(id: string): Promise<string> {
    const { status, text } = await this.nova.action(id, { "os-getConsoleOutput": { length: null } });
    if (status === 404)
      throw new CloudceError("NodeNotFound", `compute os-getConsoleOutput: server ${id} does not exist`, {
        driver: DRIVER_NAME,
        status,
      });
    if (status === 409)
      throw new CloudceError(
        "CloudError",
        `compute os-getConsoleOutput: no console output for server ${id} in its current state; try again when it runs`,
        { driver: DRIVER_NAME, status },
      );
    const output = (JSON.parse(text) as { output?: unknown }).output;
    return typeof output === "string" ? output : "";
  }

  getLimits(_flavor?: CloudFlavor): Promise<CloudLimits> {
    return this.nova.limits();
  }

  credentialExpiry(): Promise<CredentialExpiry[]> {
    return keystoneCredentialExpiry(this.parts.login, this.parts.session, this.parts.options);
  }

  async close(): Promise<void> {
    this.parts.forgetSecrets?.();
    await Promise.all([this.parts.http.close(), this.parts.login.close()]);
  }
}
