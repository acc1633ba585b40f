/**
 * The OPENSTACK driver: the CloudDriver contract on Nova, Glance and
 * Neutron. Each node is its own `POST /servers`; a create whose answer was
 * lost (timeout, reset, 5xx) is looked up by its unique name before any
 * retry, so one pilot never becomes two VMs.
 */

import { redactUserData } from "../../context/index.js";
import { CloudceError, isCloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { mapConcurrent } from "../../util/pool.js";
import { withRetry, type RetryPolicy } from "../../util/retry.js";
import type {
  BulkResult, CloudDriver, CloudFlavor, CloudLimits, CloudNode, CloudResource, CreateNodesRequest, CreateNodesResult,
  CredentialExpiry, DriverCapabilities, NodeFailure, NodeFilter, NodeSpec, ResourceQuery,
} from "../driver.js";
import { NovaApi, regexLiteral, type ServerCreate } from "./compute.js";
import { keystoneCredentialExpiry } from "./credential-expiry.js";
import type { HttpClient } from "./http-client.js";
import { faultMessage } from "./http-errors.js";
import { GlanceApi } from "./image.js";
import { NeutronApi } from "./network.js";
import { DRIVER_NAME, microversionAtLeast, type ParsedOptions } from "./options.js";
import type { OpenStackSession } from "./session.js";
import { nodeState, toCloudNode, type NovaServer } from "./state-map.js";

/** At most this many creates, deletes or stops in flight at once (the CE batches; this spares the API). */
export const MAX_PARALLEL_CALLS = 8;

/** Also set as a Nova server tag (2.52+) so that operators can `openstack server list --tags`. */
const OWNER_KEY = "cloudce-ce";

const CAPABILITIES: DriverCapabilities = {
  uniformBatch: false,
  consoleOutput: true,
  stop: true,
  limits: true,
  userData: { maxBytes: 65_535, measuredAs: "base64" },
  ambiguousImage: "error",
};

export interface OpenStackParts {
  readonly http: HttpClient;
  readonly session: OpenStackSession;
  readonly options: ParsedOptions;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** True when credentials come from elsewhere (clouds.yaml) and the auth file may be absent. */
  readonly credentialsOptional?: boolean;
  /** Drops the driver's credentials and tokens from the secret scrubber (at close). */
  readonly forgetSecrets?: () => void;
}

/** An answer that may have been lost after Nova acted on the request. */
function answerLost(err: unknown): boolean {
  return isCloudceError(err) && (err.code === "Timeout" || err.code === "CloudUnavailable");
}

/** Nova server tags: at most 60 characters, no '/' or ','. */
function ownerTag(metadata: Readonly<Record<string, string>>): string | undefined {
  const owner = metadata[OWNER_KEY];
  if (owner === undefined) return undefined;
  const tag = `${OWNER_KEY}=${owner}`;
  return tag.length <= 60 && !/[/,]/.test(tag) ? tag : undefined;
}

/** Settled per-item results as successes and failures named by `target(index)`. */
function partition<T>(settled: readonly PromiseSettledResult<T>[], target: (index: number) => string): { ok: T[]; failed: NodeFailure[] } {
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
  readonly capabilities: DriverCapabilities;
  private readonly nova: NovaApi;
  private readonly glance: GlanceApi;
  private readonly neutron: NeutronApi;
  private readonly useTags: boolean;

  constructor(private readonly parts: OpenStackParts) {
    this.nova = new NovaApi(parts.session);
    this.glance = new GlanceApi(parts.session);
    this.neutron = new NeutronApi(parts.session);
    this.useTags = microversionAtLeast(parts.options.microversion, 52);
    // clouds.yaml holding the secret makes the auth file optional.
    this.capabilities = parts.credentialsOptional ? { ...CAPABILITIES, requiresCredentials: false } : CAPABILITIES;
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

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    const settled = await mapConcurrent(request.nodes, MAX_PARALLEL_CALLS, (spec) => this.createOne(request, spec));
    const { ok, failed } = partition(settled, (i) => request.nodes[i]!.name);
    return { created: ok, failed };
  }

  private serverBody(request: CreateNodesRequest, spec: NodeSpec): ServerCreate {
    const tag = this.useTags ? ownerTag(spec.metadata) : undefined;
    const networks = request.networkIds.length > 0
      ? request.networkIds.map((uuid) => ({ uuid }))
      : microversionAtLeast(this.parts.options.microversion, 37) ? "auto" : undefined;
    return {
      name: spec.name,
      imageRef: request.imageId,
      flavorRef: request.flavorId,
      ...(networks === undefined ? {} : { networks }),
      ...(request.keyName ? { key_name: request.keyName } : {}),
      user_data: Buffer.from(spec.userData).toString("base64"),
      config_drive: true,
      metadata: spec.metadata,
      ...(tag ? { tags: [tag] } : {}),
    };
  }

  private createOne(request: CreateNodesRequest, spec: NodeSpec): Promise<CloudNode> {
    const body = this.serverBody(request, spec);
    return withRetry(async () => {
      try {
        const id = await this.nova.createServer(body);
        return { id, name: spec.name, state: "booting", cloudState: "BUILD", createdAt: new Date(), metadata: { ...spec.metadata } };
      } catch (err) {
        if (!answerLost(err)) throw err;
        const found = await this.lookupAfterLostCreate(spec, err);
        if (found) return found;
        throw err;
      }
    }, this.parts.retry, {
      onRetry: (err, attempt, delayMs) => {
        const reason = redactUserData((err as Error).message, { userData: spec.userData });
        this.parts.logger.warn("retrying server create", { node: spec.name, attempt, delayMs, reason });
      },
      ...(this.parts.sleep ? { sleep: this.parts.sleep } : {}),
    });
  }

  /** The server a lost create may have made; a failed look-up forbids the retry (it could make a twin). */
  private async lookupAfterLostCreate(spec: NodeSpec, lost: unknown): Promise<CloudNode | undefined> {
    let servers: NovaServer[];
    try {
      servers = await this.nova.listServers(`^${regexLiteral(spec.name)}$`);
    } catch (err) {
      throw new CloudceError("CloudUnavailable", `compute POST /servers for ${spec.name}: the answer was lost and the look-up by name failed too, so it is not retried (${(err as Error).message})`, {
        driver: DRIVER_NAME,
        retryable: false,
        cause: lost,
      });
    }
    const mine = servers.find((s) => s.name === spec.name && Object.entries(spec.metadata).every(([k, v]) => s.metadata?.[k] === v));
    if (mine) this.parts.logger.info("a create whose answer was lost did create the server", { node: spec.name, id: mine.id });
    return mine ? toCloudNode(mine) : undefined;
  }

  async listNodes(filter: NodeFilter): Promise<CloudNode[]> {
    // No server-side tag filter: servers created before the microversion was raised carry no tag and
    // would vanish from the CE's view (and never be cleaned up). The metadata is checked below.
    const servers = await this.nova.listServers(`^${regexLiteral(filter.namePrefix)}`);
    return servers
      .filter((s) => s.name.startsWith(filter.namePrefix))
      .filter((s) => Object.entries(filter.metadata).every(([k, v]) => s.metadata?.[k] === v))
      .map(toCloudNode)
      .filter((n) => n.state !== "gone");
  }

  async getNode(id: string): Promise<CloudNode | undefined> {
    const server = await this.nova.getServer(id);
    return server ? toCloudNode(server) : undefined;
  }

  destroyNodes(ids: readonly string[]): Promise<BulkResult> {
    return this.bulk(ids, (id) => this.nova.deleteServer(id));
  }

  stopNodes(ids: readonly string[]): Promise<BulkResult> {
    return this.bulk(ids, (id) => this.stopOne(id));
  }

  private async stopOne(id: string): Promise<void> {
    const { status, text } = await this.nova.action(id, { "os-stop": null });
    if (status !== 404 && status !== 409) return;
    // 409: not in a state that can be stopped; already (being) stopped is success.
    // 404: gone, or still being scheduled (real Nova has no instance yet, only a build request).
    const server = await this.nova.getServer(id);
    if (!server) throw new CloudceError("NodeNotFound", `compute os-stop: server ${id} does not exist`, { driver: DRIVER_NAME, status });
    const state = nodeState(server.status, server["OS-EXT-STS:task_state"]);
    if (state === "stopped" || state === "stopping") return;
    throw new CloudceError("CloudError", `compute os-stop: server ${id} cannot be stopped in state ${server.status} (HTTP ${status} ${faultMessage(text).slice(0, 120)})`, { driver: DRIVER_NAME, status });
  }

  private async bulk(ids: readonly string[], act: (id: string) => Promise<void>): Promise<BulkResult> {
    const settled = await mapConcurrent(ids, MAX_PARALLEL_CALLS, async (id) => {
      await act(id);
      return id;
    });
    const { ok, failed } = partition(settled, (i) => ids[i]!);
    return { done: ok, failed };
  }

  async getConsoleOutput(id: string): Promise<string> {
    const { status, text } = await this.nova.action(id, { "os-getConsoleOutput": { length: null } });
    if (status === 404) throw new CloudceError("NodeNotFound", `compute os-getConsoleOutput: server ${id} does not exist`, { driver: DRIVER_NAME, status });
    if (status === 409) throw new CloudceError("CloudError", `compute os-getConsoleOutput: no console output for server ${id} in its current state; try again when it runs`, { driver: DRIVER_NAME, status });
    const output = (JSON.parse(text) as { output?: unknown }).output;
    return typeof output === "string" ? output : "";
  }

  getLimits(_flavor?: CloudFlavor): Promise<CloudLimits> {
    return this.nova.limits();
  }

  credentialExpiry(): Promise<CredentialExpiry[]> {
    return keystoneCredentialExpiry(this.parts.http, this.parts.session, this.parts.options);
  }

  async close(): Promise<void> {
    this.parts.forgetSecrets?.();
    await this.parts.http.close();
  }
}
