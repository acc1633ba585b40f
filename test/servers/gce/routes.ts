/**
 * The Compute v1 resources the test server serves, as the discovery document
 * describes them: method + path → handler over the GceCloud. Lists page with
 * maxResults/pageToken (at most `pageSize`) and filter; `instance` path
 * parameters take a name or a numeric id, as GCE's do.
 */

import { bulkInsert, type BulkInsertBody } from "./bulk-insert.js";
import { GceFault, type InstanceRecord, type OperationRecord } from "./records.js";
import { imageView, instanceView, operationView, page, type RouteContext } from "./views.js";

type Handler = (ctx: RouteContext, params: string[]) => unknown;

interface Route {
  readonly name: string;
  readonly method: string;
  readonly path: RegExp;
  readonly handler: Handler;
}

const SEG = "([^/]+)";
const P = `^/compute/v1/projects/${SEG}`;

function zoneOf(ctx: RouteContext, zone: string): string {
  if (!ctx.cloud.zones.includes(zone))
    throw new GceFault(404, "notFound", `The resource 'projects/${ctx.cloud.project}/zones/${zone}' was not found`);
  return zone;
}

function checkProject(ctx: RouteContext, project: string): void {
  if (project !== ctx.cloud.project && !ctx.cloud.images.some((i) => i.project === project)) {
    throw new GceFault(403, "forbidden", `Required 'compute.instances.list' permission for 'projects/${project}'`);
  }
}

function instance(ctx: RouteContext, zone: string, idOrName: string): InstanceRecord {
  const found = ctx.cloud.find(zoneOf(ctx, zone), idOrName);
  if (!found)
    throw new GceFault(
      404,
      "notFound",
      `The resource 'projects/${ctx.cloud.project}/zones/${zone}/instances/${idOrName}' was not found`,
    );
  return found;
}

function operation(ctx: RouteContext, name: string): OperationRecord {
  const op = ctx.cloud.operations.get(name);
  if (!op) throw new GceFault(404, "notFound", `The resource 'operation ${name}' was not found`);
  return op;
}

/** A mutating call with a requestId seen before returns the operation it started. */
function once(ctx: RouteContext, start: () => OperationRecord): unknown {
  const requestId = ctx.query.get("requestId");
  if (requestId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(requestId)) {
    throw new GceFault(400, "invalid", "Invalid value for field 'requestId': must be a UUID.");
  }
  const seen = requestId ? ctx.cloud.operations.get(ctx.cloud.requests.get(requestId) ?? "") : undefined;
  const op = seen ?? start();
  if (requestId) ctx.cloud.requests.set(requestId, op.name);
  return operationView(ctx, op);
}

export const ROUTES: readonly Route[] = [
  {
    name: "images.list",
    method: "GET",
    path: new RegExp(`${P}/global/images$`),
    handler: (c, [p]) =>
      page(
        c,
        "image",
        c.cloud.images.filter((i) => i.project === p),
        imageView,
      ),
  },
  {
    name: "images.getFromFamily",
    method: "GET",
    path: new RegExp(`${P}/global/images/family/${SEG}$`),
    handler: (c, [p, f]) => {
      const newest = c.cloud.images
        .filter((i) => i.project === p && i.family === f)
        .sort((a, b) => b.creationTimestamp.localeCompare(a.creationTimestamp))[0];
      if (!newest)
        throw new GceFault(404, "notFound", `The resource 'projects/${p}/global/images/family/${f}' was not found`);
      return imageView(newest);
    },
  },
  {
    name: "images.get",
    method: "GET",
    path: new RegExp(`${P}/global/images/${SEG}$`),
    handler: (c, [p, n]) => {
      const img = c.cloud.images.find((i) => i.project === p && i.name === n);
      if (!img) throw new GceFault(404, "notFound", `The resource 'projects/${p}/global/images/${n}' was not found`);
      return imageView(img);
    },
  },
  {
    name: "networks.list",
    method: "GET",
    path: new RegExp(`${P}/global/networks$`),
    handler: (c) => page(c, "network", c.cloud.networks, (n) => ({ kind: "compute#network", name: n })),
  },
  {
    name: "networks.get",
    method: "GET",
    path: new RegExp(`${P}/global/networks/${SEG}$`),
    handler: (c, [, n]) => {
      if (!c.cloud.networks.includes(n!))
        throw new GceFault(
          404,
          "notFound",
          `The resource 'projects/${c.cloud.project}/global/networks/${n}' was not found`,
        );
      return { kind: "compute#network", name: n };
    },
  },
  {
    name: "machineTypes.list",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/machineTypes$`),
    handler: (c, [, z]) =>
      page(c, "machineType", zoneOf(c, z!) ? c.cloud.machineTypes : [], (m) => ({ kind: "compute#machineType", ...m })),
  },
  {
    name: "machineTypes.get",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/machineTypes/${SEG}$`),
    handler: (c, [, z, n]) => {
      zoneOf(c, z!);
      const m = c.cloud.machineTypes.find((t) => t.name === n);
      if (!m)
        throw new GceFault(
          404,
          "notFound",
          `The resource 'projects/${c.cloud.project}/zones/${z}/machineTypes/${n}' was not found`,
        );
      return { kind: "compute#machineType", ...m };
    },
  },
  {
    name: "regions.get",
    method: "GET",
    path: new RegExp(`${P}/regions/${SEG}$`),
    handler: (c, [, r]) => {
      if (r !== c.cloud.region)
        throw new GceFault(404, "notFound", `The resource 'projects/${c.cloud.project}/regions/${r}' was not found`);
      const onDemand = c.cloud.usage(false);
      return {
        kind: "compute#region",
        name: r,
        status: "UP",
        quotas: [
          { metric: "INSTANCES", limit: c.cloud.quotas["INSTANCES"], usage: onDemand.instances },
          { metric: "CPUS", limit: c.cloud.quotas["CPUS"], usage: onDemand.cpus },
          {
            metric: "PREEMPTIBLE_CPUS",
            limit: c.cloud.quotas["PREEMPTIBLE_CPUS"],
            usage: c.cloud.quotas["PREEMPTIBLE_CPUS"]! > 0 ? c.cloud.usage(true).cpus : 0,
          },
          { metric: "IN_USE_ADDRESSES", limit: c.cloud.quotas["IN_USE_ADDRESSES"], usage: c.cloud.externalAddresses() },
        ],
      };
    },
  },
  {
    name: "instances.bulkInsert",
    method: "POST",
    path: new RegExp(`${P}/zones/${SEG}/instances/bulkInsert$`),
    handler: (c, [, z]) =>
      once(c, () => bulkInsert(c.cloud, c.body as BulkInsertBody, { zone: zoneOf(c, z!) }, c.operationFault())),
  },
  {
    name: "regionInstances.bulkInsert",
    method: "POST",
    path: new RegExp(`${P}/regions/${SEG}/instances/bulkInsert$`),
    handler: (c) => once(c, () => bulkInsert(c.cloud, c.body as BulkInsertBody, {}, c.operationFault())),
  },
  {
    name: "instances.list",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/instances$`),
    handler: (c, [, z]) => {
      zoneOf(c, z!);
      c.cloud.tick();
      return page(c, "instance", c.cloud.listed(z!), (i) => instanceView(c, i));
    },
  },
  {
    name: "instances.get",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/instances/${SEG}$`),
    handler: (c, [, z, i]) => instanceView(c, instance(c, z!, i!)),
  },
  {
    name: "instances.delete",
    method: "DELETE",
    path: new RegExp(`${P}/zones/${SEG}/instances/${SEG}$`),
    handler: (c, [, z, i]) => {
      const inst = instance(c, z!, i!);
      return once(c, () => {
        c.cloud.remove(inst);
        return c.cloud.startOperation({ operationType: "delete", zone: z!, targetId: inst.id });
      });
    },
  },
  {
    name: "instances.stop",
    method: "POST",
    path: new RegExp(`${P}/zones/${SEG}/instances/${SEG}/stop$`),
    handler: (c, [, z, i]) => {
      const inst = instance(c, z!, i!);
      return once(c, () => {
        c.cloud.stop(inst);
        return c.cloud.startOperation({ operationType: "stop", zone: z!, targetId: inst.id });
      });
    },
  },
  {
    name: "instances.getSerialPortOutput",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/instances/${SEG}/serialPort$`),
    handler: (c, [, z, i]) => {
      const inst = instance(c, z!, i!);
      const start = Number(c.query.get("start") ?? 0);
      return { kind: "compute#serialPortOutput", contents: inst.serial.slice(start), start, next: inst.serial.length };
    },
  },
  {
    name: "zoneOperations.list",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/operations$`),
    handler: (c, [, z]) =>
      page(
        c,
        "operation",
        [...c.cloud.operations.values()].filter((o) => o.zone === zoneOf(c, z!)),
        (o) => operationView(c, o),
      ),
  },
  {
    name: "zoneOperations.get",
    method: "GET",
    path: new RegExp(`${P}/zones/${SEG}/operations/${SEG}$`),
    handler: (c, [, , n]) => {
      c.cloud.tick();
      return operationView(c, operation(c, n!));
    },
  },
  {
    name: "regionOperations.get",
    method: "GET",
    path: new RegExp(`${P}/regions/${SEG}/operations/${SEG}$`),
    handler: (c, [, , n]) => {
      c.cloud.tick();
      return operationView(c, operation(c, n!));
    },
  },
];

/** The route of a request and its path parameters (the project checked). */
export function match(
  method: string,
  path: string,
  ctx: Pick<RouteContext, "cloud">,
): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.path.exec(path);
    if (!m) continue;
    const params = m.slice(1).map(decodeURIComponent);
    checkProject(ctx as RouteContext, params[0]!);
    return { route, params };
  }
  return undefined;
}
