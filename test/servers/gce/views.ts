/** What the test server answers: Compute v1 resources as JSON, and list pages with filter and page tokens. */

import type { OperationFault } from "./bulk-insert.js";
import type { GceCloud } from "./cloud.js";
import { GceFault, type InstanceRecord, type OperationRecord } from "./records.js";
import { type FilterError, parseFilter, type Predicate } from "./filter.js";

export interface RouteContext {
  readonly cloud: GceCloud;
  readonly base: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly pageSize: number;
  readonly operationFault: () => OperationFault | undefined;
  /** Answer a list as if it had no filter (a cloud, or a proxy, that dropped it). */
  readonly unfiltered?: boolean;
}

export function page<T>(
  ctx: RouteContext,
  kind: string,
  all: readonly T[],
  view: (t: T) => Record<string, unknown>,
): unknown {
  let predicate: Predicate;
  try {
    predicate = ctx.unfiltered
      ? () => true
      : parseFilter(ctx.query.get("filter"), { regexOnOneField: ctx.cloud.regexOnOneField });
  } catch (err) {
    throw new GceFault(400, "invalid", (err as FilterError).message);
  }
  const matching = all.map(view).filter(predicate);
  const size = Math.min(Number(ctx.query.get("maxResults") ?? 500) || 500, 500, ctx.pageSize);
  // GCE lists in name order, and a page token continues after the last name it returned:
  // a resource that vanishes between two pages shifts nothing.
  const sorted = [...matching].sort((a, b) => String(a["name"]).localeCompare(String(b["name"])));
  const token = ctx.query.get("pageToken");
  const after = token ? Buffer.from(token, "base64url").toString() : undefined;
  if (token && !after) throw new GceFault(400, "invalid", "Invalid value for field 'pageToken'.");
  const rest = after === undefined ? sorted : sorted.filter((r) => String(r["name"]) > after);
  const items = rest.slice(0, size);
  const next =
    rest.length > size ? Buffer.from(String(items[items.length - 1]!["name"])).toString("base64url") : undefined;
  return { kind: `compute#${kind}List`, items, ...(next ? { nextPageToken: next } : {}) };
}

export function instanceView(ctx: Pick<RouteContext, "base" | "cloud">, i: InstanceRecord): Record<string, unknown> {
  const zoneUrl = `${ctx.base}/projects/${ctx.cloud.project}/zones/${i.zone}`;
  return {
    kind: "compute#instance",
    id: i.id,
    name: i.name,
    zone: zoneUrl,
    status: i.status,
    creationTimestamp: i.creationTimestamp,
    ...(i.lastStart !== undefined ? { lastStartTimestamp: new Date(i.lastStart).toISOString() } : {}),
    ...(i.lastStop !== undefined ? { lastStopTimestamp: new Date(i.lastStop).toISOString() } : {}),
    machineType: `${zoneUrl}/machineTypes/${i.machineType}`,
    labels: { ...i.labels },
    metadata: { kind: "compute#metadata", fingerprint: "x", items: i.metadata },
    scheduling: { ...i.scheduling },
    disks: i.properties["disks"],
    networkInterfaces: i.properties["networkInterfaces"],
    selfLink: `${zoneUrl}/instances/${i.name}`,
  };
}

export function operationView(ctx: Pick<RouteContext, "base" | "cloud">, op: OperationRecord): Record<string, unknown> {
  const scope = op.zone ? `zones/${op.zone}` : `regions/${op.region}`;
  const status = ctx.cloud.operationStatus(op);
  const done = status === "DONE";
  return {
    kind: "compute#operation",
    id: op.id,
    name: op.name,
    operationType: op.operationType,
    status,
    progress: done ? 100 : 0,
    insertTime: new Date(op.insertTime).toISOString(),
    ...(op.targetId ? { targetId: op.targetId } : {}),
    ...(op.zone
      ? { zone: `${ctx.base}/projects/${ctx.cloud.project}/zones/${op.zone}` }
      : { region: `${ctx.base}/projects/${ctx.cloud.project}/regions/${op.region}` }),
    selfLink: `${ctx.base}/projects/${ctx.cloud.project}/${scope}/operations/${op.name}`,
    ...(done && op.error
      ? { error: { errors: op.error }, httpErrorStatusCode: 503, httpErrorMessage: "SERVICE UNAVAILABLE" }
      : {}),
    ...(done && op.perLocationStatus && !op.uncounted
      ? { instancesBulkInsertOperationMetadata: { perLocationStatus: op.perLocationStatus } }
      : {}),
  };
}

export const imageView = (img: GceCloud["images"][number]) => ({
  kind: "compute#image",
  name: img.name,
  family: img.family,
  creationTimestamp: img.creationTimestamp,
  status: "READY",
  id: String(img.name.length * 1_000_003),
});
