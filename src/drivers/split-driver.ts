/**
 * What the drivers split by concern (a resources object for images, flavors
 * and networks beside the objects for instances) share: the listings are the
 * resources object's, and a create of no nodes asks the cloud nothing.
 */

import type { CloudFlavor, CloudResource, CreateNodesRequest, CreateNodesResult, ResourceQuery } from "./driver.js";

/** The images, flavors and networks a cloud offers. */
export interface ResourceListings {
  listImages(query?: ResourceQuery): Promise<CloudResource[]>;
  listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]>;
  listNetworks(query?: ResourceQuery): Promise<CloudResource[]>;
}

export abstract class SplitDriver {
  protected abstract readonly resources: ResourceListings;

  listImages(query?: ResourceQuery): Promise<CloudResource[]> {
    return this.resources.listImages(query);
  }
  listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]> {
    return this.resources.listFlavors(query);
  }
  listNetworks(query?: ResourceQuery): Promise<CloudResource[]> {
    return this.resources.listNetworks(query);
  }

  async createNodes(request: CreateNodesRequest): Promise<CreateNodesResult> {
    if (request.nodes.length === 0) return { created: [], failed: [] };
    return this.createBatch(request);
  }

  /** Creates the request's nodes, of which there is at least one. */
  protected abstract createBatch(request: CreateNodesRequest): Promise<CreateNodesResult>;
}
