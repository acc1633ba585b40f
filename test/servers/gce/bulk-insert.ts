/**
 * instances.bulkInsert on the test cloud, zonal or regional: validation that
 * GCE does before answering, then an operation that creates the VMs when it
 * turns RUNNING: numbered after the highest existing name of the pattern,
 * within each zone's capacity and the region's quotas, all rolled back
 * below minCount, with the errors and perLocationStatus GCE reports.
 */

import type { GceCloud } from "./cloud.js";
import { GceFault, type GceMachineType, type OperationRecord } from "./records.js";

export interface BulkInsertBody {
  readonly count?: number | string;
  readonly minCount?: number | string;
  readonly namePattern?: string;
  readonly instanceProperties?: Record<string, unknown>;
  readonly locationPolicy?: {
    readonly locations?: Record<string, { readonly preference?: string }>;
    readonly targetShape?: string;
  };
}

/** What the next bulk insert's operation does instead of creating (fault injection). */
export interface OperationFault {
  readonly errorCode?: string;
  readonly stuck?: boolean;
  /** Creates, but the operation's answer leaves out perLocationStatus. */
  readonly uncounted?: boolean;
}

const PATTERN = /^([a-z][-a-z0-9]*?)(#+)([-a-z0-9]*)$/;

function imageExists(cloud: GceCloud, sourceImage: string): boolean {
  const m = /projects\/([^/]+)\/global\/images\/(family\/)?([^/]+)$/.exec(sourceImage);
  if (!m) return false;
  return cloud.images.some((i) => i.project === m[1] && (m[2] ? i.family === m[3] : i.name === m[3]));
}

function missingResource(cloud: GceCloud, props: Record<string, unknown>, zone: string): string | undefined {
  const machineType = String(props["machineType"] ?? "");
  if (!cloud.machineTypes.some((m) => m.name === machineType))
    return `projects/${cloud.project}/zones/${zone}/machineTypes/${machineType}`;
  const disks = (props["disks"] as { initializeParams?: { sourceImage?: string } }[] | undefined) ?? [];
  const image = disks[0]?.initializeParams?.sourceImage ?? "";
  if (!imageExists(cloud, image)) return image || "sourceImage";
  for (const nic of (props["networkInterfaces"] as { network?: string }[] | undefined) ?? []) {
    const net = (nic.network ?? "").split("/").pop() ?? "";
    if (!cloud.networks.includes(net)) return `projects/${cloud.project}/global/networks/${net}`;
  }
  return undefined;
}

function zonesOf(cloud: GceCloud, body: BulkInsertBody, zone: string | undefined): string[] {
  if (zone) return [zone];
  const locations = Object.entries(body.locationPolicy?.locations ?? {})
    .filter(([, p]) => (p.preference ?? "ALLOW") === "ALLOW")
    .map(([k]) => k.replace(/^zones\//, ""));
  const zones = locations.length > 0 ? locations : [...cloud.zones];
  const bad = zones.find((z) => !cloud.zones.includes(z));
  if (bad)
    throw new GceFault(
      400,
      "invalid",
      `Invalid value for field 'resource.locationPolicy': zone '${bad}' is not in region ${cloud.region}.`,
    );
  return zones;
}

export function bulkInsert(
  cloud: GceCloud,
  body: BulkInsertBody,
  where: { zone?: string },
  fault: OperationFault | undefined,
): OperationRecord {
  const count = Number(body.count);
  const minCount = body.minCount === undefined ? count : Number(body.minCount);
  if (!Number.isInteger(count) || count < 1 || count > 5000)
    throw new GceFault(400, "invalid", "Invalid value for field 'resource.count'.");
  if (!Number.isInteger(minCount) || minCount < 1 || minCount > count)
    throw new GceFault(400, "invalid", "Invalid value for field 'resource.minCount'.");
  const pattern = PATTERN.exec(body.namePattern ?? "");
  if (!pattern)
    throw new GceFault(400, "invalid", `Invalid value for field 'resource.namePattern': '${body.namePattern ?? ""}'.`);
  const props = body.instanceProperties ?? {};
  const zones = zonesOf(cloud, body, where.zone);
  const scope = where.zone ? { zone: where.zone } : { region: cloud.region };
  const missing = missingResource(cloud, props, zones[0]!);
  const op = cloud.startOperation({ operationType: "bulkInsert", ...scope, ...(fault?.stuck ? { stuck: true } : {}) });
  op.act = () => {
    if (fault?.errorCode) {
      op.error = [{ code: fault.errorCode, message: `Injected ${fault.errorCode}.` }];
      return;
    }
    if (missing) {
      op.error = [{ code: "RESOURCE_NOT_FOUND", message: `The resource '${missing}' was not found` }];
      return;
    }
    if (fault?.uncounted) op.uncounted = true;
    create(cloud, op, zones, {
      count,
      minCount,
      prefix: pattern[1]!,
      digits: pattern[2]!.length,
      suffix: pattern[3]!,
      props,
    });
  };
  return op;
}

interface Plan {
  readonly count: number;
  readonly minCount: number;
  readonly prefix: string;
  readonly digits: number;
  readonly suffix: string;
  readonly props: Record<string, unknown>;
}

function create(cloud: GceCloud, op: OperationRecord, zones: readonly string[], plan: Plan): void {
  const machineType = cloud.machineTypes.find((m) => m.name === plan.props["machineType"]) as GceMachineType;
  const spot = (plan.props["scheduling"] as { provisioningModel?: string } | undefined)?.provisioningModel === "SPOT";
  const nics = (plan.props["networkInterfaces"] as { accessConfigs?: unknown[] }[] | undefined) ?? [];
  const externalIp = (nics[0]?.accessConfigs?.length ?? 0) > 0;
  const nameRe = new RegExp(`^${plan.prefix}(\\d{${plan.digits}})${plan.suffix}$`);
  let next = 1 + Math.max(0, ...[...cloud.instances.values()].map((i) => Number(nameRe.exec(i.name)?.[1] ?? 0)));
  const made: string[] = [];
  const status: NonNullable<OperationRecord["perLocationStatus"]> = {};
  let stoppedBy: "capacity" | "quota" | undefined;
  let left = plan.count;
  for (const zone of zones) {
    const room = cloud.room(zone, machineType, spot, externalIp);
    const n = Math.min(left, room.n);
    if (n < left) stoppedBy ??= room.limit;
    for (let k = 0; k < n; k++)
      made.push(
        cloud.createInstance(
          zone,
          `${plan.prefix}${String(next++).padStart(plan.digits, "0")}${plan.suffix}`,
          plan.props,
          machineType.name,
          op.name,
        ).id,
      );
    status[`zones/${zone}`] = {
      targetVmCount: left,
      createdVmCount: n,
      failedToCreateVmCount: left - n,
      status: n === left ? "DONE" : "FAILED",
    };
    left -= n;
    if (left === 0) break;
  }
  if (made.length < plan.minCount) {
    for (const id of made) {
      cloud.release(cloud.instances.get(id)?.zone ?? "");
      cloud.instances.delete(id);
      cloud.history.delete(id);
    }
    for (const s of Object.values(status))
      Object.assign(s, { createdVmCount: 0, failedToCreateVmCount: s.targetVmCount, status: "FAILED" });
  }
  op.perLocationStatus = status;
  if (left > 0 || made.length < plan.minCount) {
    op.error =
      stoppedBy === "quota"
        ? [
            {
              code: "QUOTA_EXCEEDED",
              message: `Quota 'CPUS' exceeded. Limit: ${cloud.quotas["CPUS"]} in region ${cloud.region}.`,
            },
          ]
        : [
            {
              code: "ZONE_RESOURCE_POOL_EXHAUSTED",
              message: `The zone '${zones.join(",")}' does not have enough resources available to fulfill the request.`,
            },
          ];
  }
}
