/**
 * Glance v2 images: by id (`GET /v2/images/{id}`), by exact name
 * (`?name=`), or all; only active images, every page.
 */

import type { CloudResource, ResourceQuery } from "../driver.js";
import { allPages, query } from "./paging.js";
import type { OpenStackSession } from "./session.js";

interface GlanceImage {
  id: string;
  name?: string | null;
  status?: string;
  created_at?: string;
}

const PAGE_SIZE = 200;

export class GlanceApi {
  constructor(private readonly session: OpenStackSession) {}

  async listImages(q: ResourceQuery = {}): Promise<CloudResource[]> {
    if (q.id !== undefined) {
      const { status, body } = await this.session.json<GlanceImage>("image", {
        method: "GET",
        path: `/images/${encodeURIComponent(q.id)}`,
        accept: [404],
      });
      const images = status === 404 || !body || body.status !== "active" ? [] : [body];
      return images.filter((i) => q.name === undefined || i.name === q.name).map(toResource);
    }
    const images = await allPages(async (marker) => {
      const path = `/images${query({ name: q.name, status: "active", limit: PAGE_SIZE, marker })}`;
      const { body } = await this.session.json<{ images?: GlanceImage[]; next?: string }>("image", {
        method: "GET",
        path,
      });
      return { items: body?.images ?? [], next: body?.next };
    }, "image GET /images");
    return images.map(toResource);
  }
}

function toResource(i: GlanceImage): CloudResource {
  const created = i.created_at ? new Date(i.created_at) : undefined;
  return {
    id: i.id,
    name: i.name ?? "",
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
  };
}
