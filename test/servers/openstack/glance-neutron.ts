/**
 * Glance v2 images and Neutron v2.0 networks of the test cloud: listing
 * with the filters the driver uses, Glance's `next` paging, and each
 * service's own error shape (Glance's HTML, Neutron's NeutronError).
 */

import type { CloudState, TestImage } from "./cloud-state.js";
import { glanceFault, json, keystoneFault, neutronFault, type Reply, type Req, type Route } from "./http-kit.js";

function authorised(state: CloudState, req: Req): boolean {
  const t = state.validToken(req.headers["x-auth-token"] as string | undefined);
  return t !== undefined && t.projectId !== undefined;
}

function guarded(state: CloudState, fn: Route["handler"]): Route["handler"] {
  return (req, params) =>
    authorised(state, req) ? fn(req, params) : keystoneFault(401, "The request you have made requires authentication.");
}

function imageJson(i: TestImage): Record<string, unknown> {
  return {
    ...i,
    visibility: "public",
    protected: false,
    os_hidden: false,
    container_format: "bare",
    disk_format: "qcow2",
    size: 1_048_576,
    min_disk: 0,
    min_ram: 0,
    tags: [],
    updated_at: i.created_at,
    self: `/v2/images/${i.id}`,
    file: `/v2/images/${i.id}/file`,
    schema: "/v2/schemas/image",
  };
}

function listImages(state: CloudState, req: Req): Reply {
  let images = [...state.images].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const name = req.query.get("name");
  const status = req.query.get("status");
  if (name !== null) images = images.filter((i) => i.name === name);
  if (status !== null) images = images.filter((i) => i.status === status);
  const marker = req.query.get("marker");
  if (marker !== null) {
    const at = images.findIndex((i) => i.id === marker);
    if (at < 0) return glanceFault(400, `Invalid marker. Image ${marker} could not be found.`);
    images = images.slice(at + 1);
  }
  const limit = Math.min(Number(req.query.get("limit") ?? 25) || 25, state.imagePageSize);
  const page = images.slice(0, limit);
  const body: Record<string, unknown> = {
    images: page.map(imageJson),
    first: "/v2/images",
    schema: "/v2/schemas/images",
  };
  if (page.length === limit && images.length > limit) {
    const q = new URLSearchParams(req.query);
    q.set("marker", page[page.length - 1]!.id);
    body["next"] = `/v2/images?${q}`;
  }
  return json(200, body);
}

function listNetworks(state: CloudState, req: Req): Reply {
  const ids = req.query.getAll("id");
  const names = req.query.getAll("name");
  const networks = state.networks.filter(
    (n) => (ids.length === 0 || ids.includes(n.id)) && (names.length === 0 || names.includes(n.name)),
  );
  return json(200, {
    networks: networks.map((n) => ({
      ...n,
      status: "ACTIVE",
      admin_state_up: true,
      shared: true,
      subnets: [],
      "router:external": false,
      tenant_id: "admin",
      project_id: "admin",
      created_at: "2026-01-01T00:00:00Z",
      mtu: 1500,
    })),
  });
}

export function glanceRoutes(state: CloudState): Route[] {
  return [
    { method: "GET", pattern: "/v2/images", handler: guarded(state, (req) => listImages(state, req)) },
    {
      method: "GET",
      pattern: "/v2/images/{id}",
      handler: guarded(state, (_req, [id]) => {
        const image = state.images.find((i) => i.id === id);
        return image ? json(200, imageJson(image)) : glanceFault(404, `No image found with ID ${id}`);
      }),
    },
  ];
}

export function neutronRoutes(state: CloudState): Route[] {
  return [
    { method: "GET", pattern: "/v2.0/networks", handler: guarded(state, (req) => listNetworks(state, req)) },
    {
      method: "GET",
      pattern: "/v2.0/networks/{id}",
      handler: guarded(state, (_req, [id]) => {
        const n = state.networks.find((x) => x.id === id);
        return n
          ? json(200, { network: n })
          : neutronFault(404, "NetworkNotFound", `Network ${id} could not be found.`);
      }),
    },
  ];
}
