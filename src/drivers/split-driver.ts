/**
 * What the drivers split by concern (a resources object for images, flavors
 * and networks beside an instances object for the VMs) share: the listings
 * are the resources object's, the VM calls the instances object's, and a
 * create of no nodes asks the cloud nothing.
 */

import type {
  BulkResult,
  CloudFlavor,
  CloudNode,
  CloudResource,
  CreateNodesRequest,
  CreateNodesResult,
  NodeFilter,
  ResourceQuery,
} from "./driver.js";

/** The images, flavors and networks a cloud offers. */
export interface ResourceListings {
  listImages(query?: ResourceQuery): Promise<CloudResource[]>;
  listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]>;
  listNetworks(query?: ResourceQuery): Promise<CloudResource[]>;
}

/** A cloud's VMs, found by the CE's filter or by id. */
export interface InstanceCalls {
  list(filter: NodeFilter): Promise<CloudNode[]>;
  get(id: string): Promise<CloudNode | undefined>;
  destroy(ids: readonly string[]): Promise<BulkResult>;
  stop(ids: readonly string[]): Promise<BulkResult>;
  /** The console log, decoded; empty while the cloud has none yet. */
  consoleOutput(id: string): Promise<string>;
}

export abstract class SplitDriver {
  protected abstract readonly resources: ResourceListings;
  protected abstract readonly instances: InstanceCalls;

  listImages(query?: ResourceQuery): Promise<CloudResource[]> {
    return this.resources.listImages(query);
  }
  listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]> {
    return this.resources.listFlavors(query);
  }
  listNetworks(query?: ResourceQuery): Promise<CloudResource[]> {
    return this.resources.listNetworks(query);
  }

  listNodes(filter: NodeFilter): Promise<CloudNode[]> {
    return this.instances.list(filter);
  }
  getNode(id: string): Promise<CloudNode | undefined> {
    return this.instances.get(id);
  }
  destroyNodes(ids: readonly string[]): Promise<BulkResult> {
    return this.instances.destroy(ids);
  }
  stopNodes(ids: readonly string[]): Promise<BulkResult> {
    return this.instances.stop(ids);
  }
  getConsoleOutput(id: string): Promise<string> {
    return this.instances.consoleOutput(id);
  }

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    if (request.nodes.length === 0) return { created: [], failed: [] };
    return this.createBatch(request);
  }

  /** Creates the request's nodes, of which there is at least one. */
  protected abstract createBatch(request: CreateNodesRequest): Promise<CreateNodesResult>;
}
