/**
 * Neutron v2.0 networks: by id or exact name, filtered server-side, every
 * page (Neutron pages only when the cloud enables pagination).
 */

import type { CloudResource, ResourceQuery } from "../driver.js";
import { allPages, nextLink, query } from "./paging.js";
import type { OpenStackSession } from "./session.js";

interface NeutronNetwork {
  id: string;
  name?: string;
  created_at?: string;
}

export class NeutronApi {
  constructor(private readonly session: OpenStackSession) {}

  async listNetworks(q: ResourceQuery = {}): Promise<CloudResource[]> {
    const networks = await allPages(async (marker) => {
      const path = `/networks${query({ id: q.id, name: q.name, marker })}`;
      const { body } = await this.session.json<{
        networks?: NeutronNetwork[];
        networks_links?: { rel?: string; href?: string }[];
      }>("network", { method: "GET", path });
      return { items: body?.networks ?? [], next: nextLink(body?.networks_links) };
    }, "network GET /networks");
    return networks.map((n) => {
      const created = n.created_at ? new Date(n.created_at) : undefined;
      return {
        id: n.id,
        name: n.name ?? "",
        ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
      };
    });
  }
}
